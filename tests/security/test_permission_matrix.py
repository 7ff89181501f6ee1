"""The permission matrix: every URL of the site (walked from the resolver) × the whole cast,
each with its expected status. A URL without an entry in MATRIX fails the test, so a new page
or endpoint must state who may use it.

Anonymous: 302 to the login page for pages, 401 for the API. Non-members (an outsider, an
annotator of another project) get 404. A member whose role is too low gets 403.
Every request runs in a savepoint that is rolled back, so mutations do not leak into the
next request."""

import io
import json
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from annotate.models import Category, Membership
from annotate.projects.services import invite_member
from tests.builders import wire

from .routes import all_routes

ROLES = ("anonymous", "outsider", "annotator", "other_annotator", "lead", "owner")
USERS = {
    "anonymous": None,
    "outsider": "outsider",
    "annotator": "annotator_a",
    "other_annotator": "other_annotator",
    "lead": "lead",
    "owner": "owner",
}
LOGIN = "login"  # 302 to the login page
ADMIN_LOGIN = "admin-login"  # 302 to the admin's login page


@dataclass
class Expect:
    statuses: dict
    item: str = "conflict"
    body: object = None  # callable(world) -> data; JSON for the API, form data for pages
    params: dict = field(default_factory=dict)
    query: str = ""


def page(annotator, lead, owner, **options) -> Expect:
    statuses = dict(anonymous=LOGIN, outsider=404, other_annotator=404)
    return Expect(dict(statuses, annotator=annotator, lead=lead, owner=owner), **options)


def api(annotator, lead, owner, **options) -> Expect:
    statuses = dict(anonymous=401, outsider=404, other_annotator=404)
    return Expect(dict(statuses, annotator=annotator, lead=lead, owner=owner), **options)


def everyone(status, anonymous=None, **options) -> Expect:
    """Not project-scoped: every signed-in user alike."""
    statuses = {role: status for role in ROLES}
    statuses["anonymous"] = status if anonymous is None else anonymous
    return Expect(statuses, **options)


def labels(world):
    project = world.project

    def leaf(key):
        return (
            Category.objects.filter(
                dimension__project=project, dimension__key=key, children__isnull=True
            )
            .order_by("path")
            .first()
            .pk
        )

    return {key: leaf(key) for key in ("symptom", "root_cause", "stage")}


def annotation_json(world):
    chosen = labels(world)
    return {
        "records": [{"labels": [{"dimension": k, "category": v} for k, v in chosen.items()]}],
        "note": "mine",
    }


def annotation_form(world):
    chosen = labels(world)
    return {"record_count": "1", **{f"r0-{k}": v for k, v in chosen.items()}, "note": "mine"}


def decision_form(world):
    chosen = labels(world)
    form = {f"r0-{k}": v for k, v in chosen.items()}
    return {**form, "record_count": "1", "r0-present": "1", "rationale": "both missed it"}


def decision_json(world):
    return {"records": [wire(labels(world))], "rationale": "both missed it"}


def gold_json(world):
    chosen = labels(world)
    return {
        "item": world.items["settled"].pk,
        "records": [{"labels": [{"dimension": k, "category": v} for k, v in chosen.items()]}],
        "rationale": "the lead's reading",
    }


def olf_upload(world):
    paths = {
        key: Category.objects.get(pk=pk).path.replace(" > ", " - ")
        for key, pk in labels(world).items()
    }
    record = {
        "number": 4242,
        "link": "https://github.com/QwenLM/Qwen2.5/issues/4242",
        "status": "closed",
        "SYMPTOM": paths["symptom"],
        "ROOT CAUSE": paths["root_cause"],
        "STAGE": paths["stage"],
    }
    upload = io.BytesIO(json.dumps([record]).encode())
    upload.name = "records.json"
    return {"files": upload, "format": "olf", "labels": "none"}


MATRIX = {
    # --- accounts, schema, the home page (not project-scoped) ---
    ("home", "GET"): everyone(200, anonymous=LOGIN),
    ("login", "GET"): everyone(200),
    ("login", "POST"): everyone(200, body=lambda w: {"username": "nobody", "password": "x"}),
    ("logout", "POST"): everyone(302),
    ("password_change", "GET"): everyone(200, anonymous=LOGIN),
    ("password_change", "POST"): everyone(
        200, anonymous=LOGIN, body=lambda w: {"old_password": "wrong"}
    ),
    ("password_change_done", "GET"): everyone(200, anonymous=LOGIN),
    ("password_reset", "GET"): everyone(200),
    ("password_reset", "POST"): everyone(302, body=lambda w: {"email": "nobody@example.org"}),
    ("password_reset_done", "GET"): everyone(200),
    ("password_reset_confirm", "GET"): everyone(200, params={"uidb64": "MQ", "token": "x-y"}),
    ("password_reset_complete", "GET"): everyone(200),
    # The OpenAPI schema is the public contract; it holds no data.
    ("api-schema", "GET"): everyone(200),
    ("api-docs", "GET"): everyone(200),
    ("api-redoc", "GET"): everyone(200),
    ("api-projects", "GET"): everyone(200, anonymous=401),
    # Staff create projects (nobody of the cast is staff; PROJECT_CREATION opens it).
    ("api-projects", "POST"): everyone(
        403, anonymous=401, body=lambda w: {"name": "Mine", "slug": "a-new-project"}
    ),
    ("project-create", "GET"): everyone(403, anonymous=LOGIN),
    ("project-create", "POST"): everyone(
        403, anonymous=LOGIN, body=lambda w: {"name": "Mine", "slug": "a-new-project"}
    ),
    # --- project pages ---
    ("project-detail", "GET"): page(200, 200, 200),
    ("project-settings", "GET"): page(403, 403, 200),
    ("project-settings", "POST"): page(
        403,
        403,
        302,
        body=lambda w: {
            "save_settings": "1",
            "name": "Renamed",
            "overlap": "2",
            "assignment_timeout_minutes": "60",
        },
    ),
    ("member-update", "POST"): page(403, 403, 302, body=lambda w: {"role": "lead"}),
    ("invitation-revoke", "POST"): page(403, 403, 302),
    # An invitation link: open to anyone holding it; an unknown token is 404 for everyone.
    ("invitation", "GET"): everyone(404),
    ("invitation", "POST"): everyone(404),
    ("codebook", "GET"): page(200, 200, 200),
    ("codebook-edit", "GET"): page(403, 200, 200),
    ("codebook-edit", "POST"): page(
        403,
        302,
        302,
        body=lambda w: {"op": "add", "dimension": "stage", "name": "Pre-training"},
    ),
    ("codebook-review", "GET"): page(403, 200, 200),
    # --- labeling pages (the annotator holds `held`; leads and owners hold nothing) ---
    ("label-next", "GET"): page(302, 302, 302),
    ("label-mine", "GET"): page(200, 200, 200),
    ("label-progress", "GET"): page(200, 200, 200),  # loaded after a swapped-in item
    ("label-item", "GET"): page(200, 403, 403, item="held"),
    ("label-item", "POST"): page(302, 403, 403, item="held", body=annotation_form),
    ("label-skip", "POST"): page(302, 403, 403, item="held", body=lambda w: {"reason": "dup"}),
    # --- adjudication pages ---
    ("conflict-queue", "GET"): page(403, 200, 200),
    ("conflict-detail", "GET"): page(403, 200, 200),
    ("conflict-precedents", "GET"): page(403, 200, 200),  # loaded after the conflict page
    ("conflict-decide", "POST"): page(403, 302, 302, body=decision_form),
    ("conflict-discuss", "POST"): page(403, 302, 302, body=lambda w: {"note": "look again"}),
    ("conflict-end-discussion", "POST"): page(403, 302, 302, item="discussion"),
    ("item-reopen", "POST"): page(403, 302, 302, item="decided", body=lambda w: {"reason": "x"}),
    ("item-history", "GET"): page(403, 200, 200),
    ("item-discussion", "GET"): page(200, 200, 200, item="discussion"),
    # The discussion inbox (issue #15): every member has one; the thread of an item in
    # discussion is open to its leads, owners and annotators (annotator_a annotated it).
    ("inbox", "GET"): page(200, 200, 200),
    ("item-discussion", "POST"): page(
        302, 302, 302, item="discussion", body=lambda w: {"body": "a reply"}
    ),
    # --- the item browser: every member, each seeing only what they may ---
    ("browse-items", "GET"): page(200, 200, 200),
    ("browse-item", "GET"): page(200, 200, 200),
    # --- dataset pages ---
    ("dataset", "GET"): page(200, 200, 200),
    ("dataset-import", "GET"): page(403, 403, 200),
    ("dataset-import", "POST"): page(403, 403, 302, body=olf_upload),
    ("dataset-import-job", "GET"): page(403, 403, 200),
    # --- machine raters: leads and owners; the machine column only in adjudication ---
    ("raters", "GET"): page(403, 200, 200),
    ("raters", "POST"): page(
        403,
        302,
        302,
        body=lambda w: {
            "kind": "builtin",
            "name": "another rater",
            "temperature": "0",
            "runs_per_start": "1",
            "prompt_version": "v1",
        },
    ),  # fmt: skip
    ("rater-edit", "POST"): page(
        403,
        302,
        302,
        body=lambda w: {
            f"rater-{w.rater_id}-{name}": value
            for name, value in (
                ("name", "renamed"),
                ("temperature", "0"),
                ("runs_per_start", "1"),
                ("prompt_version", "v1"),
            )
        },
    ),  # fmt: skip
    ("rater-remove", "POST"): page(403, 302, 302),
    ("rater-run", "GET"): page(403, 200, 200),
    ("rater-start", "POST"): page(403, 302, 302),
    ("rater-resume", "POST"): page(403, 302, 302),
    ("machine-column", "GET"): page(403, 200, 200),
    ("analysis-rater-agreement", "GET"): page(403, 200, 200),
    ("releases", "GET"): page(200, 200, 200),
    ("releases", "POST"): page(403, 403, 302, body=lambda w: {"version": "9.0"}),
    # --- mining pages: owners act, leads look ---
    ("mining-repositories", "GET"): page(403, 200, 200),
    ("mining-repositories", "POST"): page(
        403, 403, 302, body=lambda w: {"full_name": "deepseek-ai/DeepSeek-V3", "group": "x"}
    ),
    # A repository's group: owners and leads (htmx swaps the row; a plain POST redirects).
    ("mining-repository-group", "POST"): page(403, 302, 302, body=lambda w: {"group": "G"}),
    ("mining-jobs", "GET"): page(403, 200, 200),
    ("mining-jobs", "POST"): page(
        403, 403, 302, body=lambda w: {"kind": "crawl", "repositories": [w.job_repo_id]}
    ),
    ("mining-job", "GET"): page(403, 200, 200),
    ("mining-job-cancel", "POST"): page(403, 403, 302),
    ("mining-pool", "GET"): page(403, 200, 200),
    ("mining-pool", "POST"): page(403, 403, 302, body=lambda w: {"commit": "1", "seed": "0"}),
    # --- analysis pages: agreement for leads and owners, distributions for every member ---
    ("analysis-agreement", "GET"): page(403, 200, 200),
    ("analysis-agreement-table", "GET"): page(
        403, 200, 200, params={"name": "summary", "fmt": "csv"}
    ),
    ("analysis-agreement-chart", "GET"): page(403, 200, 200, params={"fmt": "svg"}),
    ("analysis-distributions", "GET"): page(200, 200, 200),
    # --- open coding (issue #17): proposals (the world is in the main phase, so a proposal
    # is refused with 400 after the checks of who may ask), the board, the phase ---
    ("opencoding-panel", "GET"): page(200, 403, 403, item="held"),
    ("opencoding-panel", "POST"): page(
        400, 403, 403, item="held", body=lambda w: {"dimension": "symptom", "name": "X"}
    ),
    ("opencoding-board", "GET"): page(403, 200, 200),
    ("opencoding-decide", "POST"): page(
        403, 404, 404, params={"proposal_id": 1}, body=lambda w: {"action": "promote"}
    ),
    ("opencoding-phase", "POST"): page(403, 302, 302, body=lambda w: {"phase": "pilot"}),
    # --- calibration of new coders (issue #17): the gold set for leads and owners; every
    # member has their own calibration page (nobody in the world is in calibration) ---
    ("calibration-gold", "GET"): page(403, 200, 200),
    ("calibration-change", "POST"): page(
        403, 302, 302, body=lambda w: {"action": "settings", "threshold": "0.7", "tries": "3"}
    ),
    ("calibration-label", "GET"): page(200, 200, 200),
    ("calibration-label", "POST"): page(400, 400, 400, body=lambda w: {"gold": "1"}),
    ("calibration-feedback", "GET"): page(404, 404, 404, params={"number": 1}),
    # --- open coding (issue #17): the planner and saturation read every annotator's labels ---
    ("analysis-planner", "GET"): page(403, 200, 200, query="prevalences=1,1"),
    ("analysis-saturation", "GET"): page(403, 200, 200),
    ("analysis-saturation-chart", "GET"): page(403, 200, 200, params={"fmt": "svg"}),
    ("analysis-saturation-table", "GET"): page(403, 200, 200, params={"fmt": "csv"}),
    ("analysis-reporting", "GET"): page(403, 200, 200),
    ("analysis-distribution-shares", "GET"): page(
        200, 200, 200, params={"view": "rq4", "fmt": "csv"}
    ),
    ("analysis-distribution-chart", "GET"): page(
        200, 200, 200, params={"view": "rq1", "kind": "bars", "fmt": "svg"}
    ),
    ("analysis-distribution-table", "GET"): page(
        200, 200, 200, params={"name": "rq1", "fmt": "csv"}
    ),
    # --- labeling API ---
    ("api-queue-next", "POST"): api(200, 200, 200),
    ("api-annotation-submit", "POST"): api(200, 403, 403, item="held", body=annotation_json),
    ("api-annotation-submit", "GET"): api(403, 200, 200),
    ("api-annotation-mine", "GET"): api(200, 404, 404),
    ("api-item-skip", "POST"): api(200, 403, 403, item="held", body=lambda w: {"reason": "x"}),
    ("api-labeling-progress", "GET"): api(200, 200, 200),
    # --- adjudication API ---
    ("api-item-adjudication", "GET"): api(403, 200, 200, item="decided"),
    ("api-item-adjudication", "POST"): api(403, 201, 201, body=decision_json),
    ("api-conflicts", "GET"): api(403, 200, 200),
    ("api-item-history", "GET"): api(403, 200, 200),
    ("api-item-discussion", "GET"): api(200, 200, 200, item="discussion"),
    ("api-item-discussion", "POST"): api(
        201, 201, 201, item="discussion", body=lambda w: {"body": "a reply"}
    ),
    # --- precedents (issue #19): similar items once one's own annotation is in ---
    ("api-similar", "GET"): api(200, 200, 200, item="settled"),
    ("api-duplicates", "GET"): api(403, 200, 200),
    ("api-consistency", "GET"): api(403, 200, 200),
    ("consistency", "GET"): page(403, 200, 200),
    ("consistency-confirm", "POST"): page(
        403, 302, 302, item="decided", body=lambda w: {"other": w.items["settled"].pk}
    ),
    # --- dataset API ---
    ("api-project", "GET"): api(200, 200, 200),
    ("api-github-token", "PUT"): api(403, 403, 200, body=lambda w: {"token": "ghp_matrix"}),
    ("api-github-token", "DELETE"): api(403, 403, 200),
    ("api-members", "GET"): api(200, 200, 200),
    ("api-members", "POST"): api(
        403, 403, 201, body=lambda w: {"username": "newcomer", "role": "annotator"}
    ),
    ("api-invitations", "GET"): api(403, 403, 200),
    ("api-invitations", "POST"): api(403, 403, 201, body=lambda w: {"role": "lead"}),
    ("api-invitation", "DELETE"): api(403, 403, 204),
    ("api-member", "PATCH"): api(403, 403, 200, body=lambda w: {"role": "lead"}),
    ("api-member", "DELETE"): api(403, 403, 204),
    ("api-codebook", "GET"): api(200, 200, 200),
    ("api-category", "PATCH"): api(403, 200, 200, body=lambda w: {"description": "clearer"}),
    ("api-issues", "GET"): api(200, 200, 200),
    ("api-issue", "GET"): api(200, 200, 200),
    ("api-comments", "GET"): api(200, 200, 200),
    ("api-items", "GET"): api(200, 200, 200),
    ("api-item", "GET"): api(200, 200, 200),
    ("api-my-assignments", "GET"): api(200, 200, 200),
    ("api-my-annotations", "GET"): api(200, 200, 200),
    ("api-annotations", "GET"): api(403, 200, 200),
    ("api-final-labels", "GET"): api(200, 200, 200),
    ("api-export", "GET"): api(200, 200, 200),
    ("api-import", "POST"): api(403, 403, 202, body=olf_upload),
    ("api-import-job", "GET"): api(403, 403, 200),
    ("api-raters", "GET"): api(403, 200, 200),
    ("api-raters", "POST"): api(403, 201, 201, body=lambda w: {"kind": "builtin", "name": "r2"}),
    ("api-rater", "GET"): api(403, 200, 200),
    ("api-rater", "PATCH"): api(403, 200, 200, body=lambda w: {"temperature": 0.5}),
    ("api-rater", "DELETE"): api(403, 204, 204),
    ("api-rater-runs", "GET"): api(403, 200, 200),
    ("api-rater-runs", "POST"): api(403, 202, 202),
    ("api-rater-run", "GET"): api(403, 200, 200),
    ("api-rater-agreement", "GET"): api(403, 200, 200),
    ("api-releases", "GET"): api(200, 200, 200),
    ("api-releases", "POST"): api(403, 403, 201, body=lambda w: {"version": "9.0"}),
    ("api-release", "GET"): api(200, 200, 200),
    ("api-release-download", "GET"): api(200, 200, 200),
    # --- mining API ---
    ("api-mining-repositories", "GET"): api(403, 200, 200),
    ("api-mining-repositories", "POST"): api(
        403, 403, 201, body=lambda w: {"full_name": "deepseek-ai/DeepSeek-V3"}
    ),
    ("api-mining-jobs", "GET"): api(403, 200, 200),
    ("api-mining-jobs", "POST"): api(
        403, 403, 201, body=lambda w: {"kind": "crawl", "repositories": [w.job_repo_id]}
    ),
    ("api-mining-job", "GET"): api(403, 200, 200),
    ("api-mining-job-start", "POST"): api(403, 403, 200),
    ("api-mining-job-cancel", "POST"): api(403, 403, 200),
    # --- analysis API ---
    ("api-agreement", "GET"): api(403, 200, 200),
    ("api-report-methods", "GET"): api(403, 200, 200),
    ("api-planner", "GET"): api(403, 200, 200, query="prevalences=1,1"),
    ("api-proposals", "GET"): api(200, 200, 200),
    ("api-proposals", "POST"): api(
        400,
        403,
        403,
        body=lambda w: {"item": w.items["held"].pk, "dimension": "symptom", "name": "X"},
    ),  # fmt: skip
    ("api-proposal-decision", "POST"): api(
        403, 404, 404, params={"proposal_id": 1}, body=lambda w: {"action": "promote"}
    ),
    ("api-phase", "GET"): api(200, 200, 200),
    ("api-phase", "POST"): api(403, 200, 200, body=lambda w: {"phase": "pilot"}),
    ("api-calibration-gold", "GET"): api(403, 200, 200),
    ("api-calibration-gold", "POST"): api(403, 201, 201, body=lambda w: gold_json(w)),
    ("api-calibration-gold-item", "DELETE"): api(403, 204, 204),
    ("api-calibration-settings", "PUT"): api(
        403, 200, 200, body=lambda w: {"threshold": 0.7, "tries": 3}
    ),
    ("api-calibration-member", "GET"): api(403, 200, 200),
    ("api-calibration-member", "POST"): api(403, 200, 200, body=lambda w: {"action": "admit"}),
    ("api-calibration-mine", "GET"): api(200, 200, 200),
    ("api-calibration-mine", "POST"): api(400, 400, 400, body=lambda w: {"gold": 1}),
    ("api-saturation", "GET"): api(403, 200, 200),
    ("api-distribution", "GET"): api(200, 200, 200, query="rows=dim:symptom"),
}

# The admin is for staff only (nobody of the cast): every admin URL sends them to its login.
ADMIN_EXCEPTIONS = {
    "admin:login": everyone(200),
    "admin:logout": everyone(302),  # a GET only redirects to the admin's index
}
ADMIN_DEFAULT = everyone(ADMIN_LOGIN)
ADMIN_VALUES = {"app_label": "annotate", "object_id": "1", "id": 1, "content_type_id": 1}
ADMIN_VALUES["url"] = "zz/"


def _values(world, expect: Expect) -> dict:
    values = world.kwargs(expect.item)
    values.update(ADMIN_VALUES, uidb64="MQ", token="x-y")
    values["invitation_id"] = getattr(world, "invitation_id", 0)
    values.update(expect.params)
    return values


def _request(client, method, path, expect, world, is_api):
    data = expect.body(world) if expect.body else None
    if method == "GET":
        return client.get(path + ("?" + expect.query if expect.query else ""))
    if is_api and not (data and "files" in data):
        return client.generic(method, path, json.dumps(data or {}), content_type="application/json")
    return client.post(path, data or {})


def _outcome(response) -> str | int:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse(settings.LOGIN_URL) + "?"):
            return LOGIN
        if location.startswith(reverse("admin:login") + "?"):
            return ADMIN_LOGIN
    return response.status_code


def _clients(world, role=None):
    """A signed-in client per role (or the one of `role`)."""
    clients = {}
    for name, username in USERS.items():
        client = Client(raise_request_exception=False)
        if username:
            client.force_login(world.users[username])
        clients[name] = client
    return clients[role] if role else clients


def _cases():
    """(route, method, expect) for every route; missing entries are reported, not skipped."""
    missing, cases = [], []
    for route in all_routes():
        if route.key.startswith("admin:") or route.text.startswith("admin/"):
            cases.append((route, "GET", ADMIN_EXCEPTIONS.get(route.key, ADMIN_DEFAULT)))
            continue
        entries = {m: e for (k, m), e in MATRIX.items() if k == route.key}
        wanted = route.api_methods or set()
        for method in sorted(wanted - set(entries)):
            missing.append(f"{route.key} {method}")
        if not entries:
            missing.append(f"{route.key} (no entry at all)")
        cases += [(route, method, expect) for method, expect in sorted(entries.items())]
    return cases, missing


def test_every_url_has_an_entry_in_the_matrix():
    _, missing = _cases()
    assert not missing, "URLs without an expected status per role: " + ", ".join(missing)


def test_no_matrix_entry_names_a_url_that_does_not_exist():
    keys = {route.key for route in all_routes()}
    assert not [key for key, _ in MATRIX if key not in keys]


@pytest.fixture
def matrix_world(world):
    world.job_repo_id = world.job.repositories.get().pk
    # Staff let this project mine with the server's token, so owners may start jobs.
    world.project.may_use_server_token = True
    world.project.save(update_fields=["may_use_server_token"])
    owner = world.users["owner"]
    world.invitation_id = invite_member(project=world.project, role="lead", created_by=owner)[0].pk
    other_owner = Membership.objects.filter(project=world.other, role="owner").first().user
    world.other_invitation_id = invite_member(
        project=world.other, role="lead", created_by=other_owner
    )[0].pk
    return world


def test_every_url_answers_every_role_as_the_matrix_says(matrix_world):
    world = matrix_world
    cases, _ = _cases()
    # Sessions are rows of the test's transaction; requests run in rolled-back savepoints,
    # so a logout or a password change does not stick.
    clients = _clients(world)
    failures = []
    for route, method, expect in cases:
        path = route.path(_values(world, expect))
        is_api = route.text.startswith("api/")
        for role in ROLES:
            client = clients[role]
            with transaction.atomic():
                response = _request(client, method, path, expect, world, is_api)
                transaction.set_rollback(True)
            if settings.SESSION_COOKIE_NAME in response.cookies:
                clients[role] = _clients(world, role)  # logged out, or a new session key
            got, wanted = _outcome(response), expect.statuses[role]
            if got != wanted:
                failures.append(f"{method} {path} as {role}: {got}, expected {wanted}")
    assert not failures, "\n".join(failures)


def test_ids_of_another_project_are_not_found_through_this_projects_urls(matrix_world):
    """The owner of this project, naming objects of the other project: 404, nothing changed."""
    world = matrix_world
    other_item = world.other_item
    other_membership = Membership.objects.filter(project=world.other).first()
    other_category = Category.objects.filter(dimension__project=world.other).first()
    foreign = {
        "item_id": other_item.pk,
        "issue_id": other_item.issue_id,
        "job_id": world.other_job.pk,
        "import_id": world.other_import_job.pk,
        "membership_id": other_membership.pk,
        "category_id": other_category.pk,
        "invitation_id": world.other_invitation_id,
        "rater_id": world.other_rater_id,
        "run_id": world.other_run_id,
    }
    cases, _ = _cases()
    failures = []
    client = Client(raise_request_exception=False)
    client.force_login(world.users["owner"])
    checked = 0
    for route, method, expect in cases:
        params = set(route.params) & set(foreign)
        if not params or route.text.startswith("admin/"):
            continue
        values = dict(_values(world, expect), **{p: foreign[p] for p in params})
        path = route.path(values)
        before = _fingerprint(world)
        with transaction.atomic():
            response = _request(client, method, path, expect, world, route.text.startswith("api/"))
            after = _fingerprint(world)
            transaction.set_rollback(True)
        checked += 1
        if after != before:
            failures.append(f"{method} {path} changed the other project")
        if response.status_code != 404:
            failures.append(f"{method} {path}: {response.status_code}, expected 404")
    assert checked >= 25
    assert not failures, "\n".join(failures)


def _fingerprint(world) -> tuple:
    other = world.other
    return (
        sorted(Membership.objects.filter(project=other).values_list("pk", "role")),
        sorted(
            Category.objects.filter(dimension__project=other).values_list(
                "pk", "name", "description", "retired"
            )
        ),
        sorted(other.items.values_list("pk", "state")),
        sorted(other.jobs.values_list("pk", "status", "cancel_requested")),
        sorted(other.invitations.values_list("pk", "revoked_at")),
    )
