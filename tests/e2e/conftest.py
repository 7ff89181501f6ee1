"""Browser tests: Playwright driving Debian's Chromium against Django's live server."""

import os

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Playwright's sync API runs an event loop in the test thread; the test itself still
# touches the database synchronously, which is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make chromium` (Debian's package).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every Content-Security-Policy violation a document reports, handed to the test.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} ` +
    `at ${e.sourceFile || document.location.href}:${e.lineNumber}`);
});
"""


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 850})
    page = context.new_page()
    # Any dialog (alert/confirm/prompt) is recorded: an XSS payload that runs shows up here.
    page.dialogs = []
    # Content-Security-Policy violations, from the DOM event and from the console (issue
    # #12): a page or htmx swap that needs inline script or style breaks under the policy.
    page.csp_violations = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message):
        if "Content Security Policy" in message.text:
            page.csp_violations.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    context.expose_function("__cspViolation", lambda text: page.csp_violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    yield page
    violations = list(page.csp_violations)
    context.close()
    if not getattr(page, "csp_violations_expected", False):
        assert violations == [], "Content-Security-Policy violations"


@pytest.fixture
def login(live_server):
    """Log `page` in as `username` (password from tests.factories) through the login form."""

    def do_login(page, username, password="pw-for-tests-123"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

    return do_login


# The WCAG 2.1 A and AA rules of axe-core (issue #15): what the browser tests hold every
# main page to.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def axe_violations():
    """A function that runs axe-core (bundled by axe-playwright-python) on a page as it is
    now and returns its WCAG 2.1 A/AA violations as readable lines, one per element."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def violations(page) -> list[str]:
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        return [
            f"{rule['id']}: {' '.join(map(str, node['target']))} ({rule['help']})"
            for rule in results.response["violations"]
            for node in rule["nodes"]
        ]

    return violations
