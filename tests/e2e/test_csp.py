"""The Content-Security-Policy in a real browser (issue #12): pages, htmx swaps and posts,
the page scripts and the API documentation work with no violation reported, and no script
can read the CSRF cookie. The `page` fixture fails any test that meets a violation."""

from playwright.sync_api import expect

from annotate.models import Membership


def test_the_fixture_sees_a_violation(page, live_server, login, project):
    login(page, "owner")
    page.goto(f"{live_server.url}/")
    page.evaluate(
        """() => { const s = document.createElement("div");
                   s.innerHTML = '<img src=x onerror="window.__ran = 1">';
                   document.body.append(s); }"""
    )
    page.wait_for_function("() => true")
    expect(page.locator("img[src=x]")).to_be_attached()
    page.wait_for_timeout(300)  # the report is asynchronous; this is not a timing assertion
    assert page.evaluate("() => window.__ran") is None
    assert any("script-src" in v for v in page.csp_violations)
    page.csp_violations.clear()


def test_htmx_posts_with_the_page_token_while_the_cookie_stays_hidden(
    page, live_server, login, project, cast
):
    login(page, "owner")
    response = page.goto(f"{live_server.url}/projects/{project.slug}/settings/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert "csrftoken" not in page.evaluate("() => document.cookie")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["csrftoken"]["httpOnly"]
    page.select_option("select[aria-label='Role of annotator_b']", "lead")
    expect(page.locator("select[aria-label='Role of annotator_b']")).to_have_value("lead")
    page.wait_for_load_state("networkidle")
    membership = Membership.objects.get(project=project, user=cast["annotator_b"])
    assert membership.role == "lead"
    assert page.url.endswith("/settings/")  # an htmx swap, not a page load


def test_distributions_tabs_swap_by_htmx_under_the_policy(page, live_server, login, project):
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/distributions/")
    page.locator("nav.tabs a[data-view=rq3]").click()
    page.wait_for_url("**view=rq3**")
    expect(page.locator("nav.tabs a.active")).to_have_attribute("data-view", "rq3")
    page.goto(f"{live_server.url}/projects/{project.slug}/distributions/?view=%3Cb%3E")
    expect(page.locator(".error-message")).to_contain_text("'view=<b>' is not a view")


def test_api_docs_render_under_their_policy(page, live_server, login, project):
    login(page, "owner")
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20000)
    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.locator("redoc h1").first).to_be_visible(timeout=20000)
    expect(page.locator("redoc")).to_contain_text("/api/projects/")
    # Redoc's bundle draws its "powered by" logo from its CDN; the policy keeps every CDN
    # out, so that blocked image is the one violation this page may report.
    assert all("cdn.redoc.ly" in v for v in page.csp_violations), page.csp_violations
    page.csp_violations.clear()
