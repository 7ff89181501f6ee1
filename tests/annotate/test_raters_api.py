"""Adding raters and starting runs through the API and the page: bad input names each bad
field and writes nothing, a duplicate name is 409, a rater's key is stored sealed and
never shown back, a busy rater is 409, and hostile ids are 404."""

import pytest

from annotate.models import Rater, RaterRun

LLM = {"kind": "openai", "name": "x", "model": "m", "base_url": "http://127.0.0.1:1/v1"}


def _url(project, *rest):
    return f"/api/projects/{project.slug}/raters/" + "".join(f"{r}/" for r in rest)


def test_a_lead_adds_an_openai_rater_whose_key_is_never_shown_back(project, cast, api_for):
    api = api_for(cast["lead"])
    body = {"kind": "openai", "name": "local qwen", "model": "qwen2.5", "api_key": "sk-zq7-key",
            "base_url": "http://127.0.0.1:8000/v1/", "runs_per_start": 3, "seed": 11,
            "visible_in_adjudication": True}  # fmt: skip
    response = api.post(_url(project), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["has_api_key"] is True and "api_key" not in data
    assert data["base_url"] == "http://127.0.0.1:8000/v1"
    rater = Rater.objects.get(pk=data["id"])
    assert "sk-zq7-key" not in rater.api_key_sealed and rater.api_key() == "sk-zq7-key"
    for url in (_url(project), _url(project, rater.pk, "runs")):
        assert b"sk-zq7-key" not in api.get(url).content
    assert api.post(_url(project), body, format="json").status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "openai", "name": "x", "model": "m", "base_url": "ftp://h/v1"}, "base_url"),
        ({"kind": "openai", "name": "x", "base_url": "http://127.0.0.1:1/v1"}, "model"),
        ({"kind": "robot", "name": "x"}, "kind"),
        ({"kind": "builtin", "name": ""}, "name"),
        ({"kind": "builtin", "name": "x", "temperature": 9}, "temperature"),
        ({"kind": "builtin", "name": "x", "runs_per_start": 0}, "runs_per_start"),
        ({"kind": "builtin", "name": "x", "seed": 2**40}, "seed"),
        # Only the prompts that exist: a run would say it used v9 and ask with v1.
        ({"kind": "builtin", "name": "x", "prompt_version": "v9"}, "prompt_version"),
        # A key no HTTP header can carry: every item of every run would fail.
        ({**LLM, "api_key": "sk-\u043a\u043b\u044e\u0447"}, "api_key"),
        ({**LLM, "api_key": "sk-one\nInjected: header"}, "api_key"),
    ],
)
def test_bad_rater_settings_name_the_field_and_write_nothing(project, cast, api_for, body, field):
    response = api_for(cast["owner"]).post(_url(project), body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid" and field in error["fields"]
    assert not Rater.objects.exists()


def test_starting_runs_queues_k_and_refuses_while_busy(project, cast, api_for, items):
    api = api_for(cast["lead"])
    rater = api.post(_url(project), {"kind": "builtin", "name": "tfidf"}, format="json").json()
    response = api.post(_url(project, rater["id"], "runs"))
    assert response.status_code == 202
    (run,) = response.json()
    assert (run["number"], run["status"], run["items_total"]) == (1, "queued", 5)
    busy = api.post(_url(project, rater["id"], "runs"))
    assert busy.status_code == 409 and "queued or running" in busy.json()["detail"]
    detail = api.get(_url(project, rater["id"], "runs", run["id"]))
    assert detail.status_code == 200 and detail.json()["progress"] == 0.0
    assert RaterRun.objects.count() == 1


def test_hostile_ids_are_not_found(project, cast, api_for, client_for):
    api = api_for(cast["lead"])
    for rater_id in ("99999999", "0", "9" * 30):
        assert api.get(_url(project, rater_id, "runs")).status_code == 404
    page = client_for(cast["lead"])
    assert page.post(f"/projects/{project.slug}/raters/{'9' * 25}/runs/").status_code == 404


def test_the_page_adds_a_rater_and_shows_form_errors(project, cast, client_for):
    page = client_for(cast["lead"])
    url = f"/projects/{project.slug}/raters/"
    bad = page.post(url, {"kind": "openai", "name": "q", "temperature": "0",
                          "runs_per_start": "1", "base_url": ""})  # fmt: skip
    assert bad.status_code == 400
    assert "Give the endpoint&#x27;s base URL" in bad.content.decode()
    assert not Rater.objects.exists()
    good = page.post(url, {"kind": "builtin", "name": "tfidf", "temperature": "0",
                           "runs_per_start": "1"})  # fmt: skip
    assert good.status_code == 302
    html = page.get(url).content.decode()
    assert "Rater tfidf added." in html and 'data-rater="tfidf"' in html
    assert client_for(cast["annotator_a"]).get(url).status_code == 403


def test_the_raters_page_reads_a_fixed_number_of_queries(
    project, cast, client_for, django_assert_max_num_queries
):
    page = client_for(cast["lead"])
    url = f"/projects/{project.slug}/raters/"

    def add(name):
        rater = Rater.objects.create(project=project, kind="builtin", name=name)
        for number in (1, 2):
            RaterRun.objects.create(rater=rater, number=number, codebook_version=1)

    add("first")
    page.get(url)  # warm the session and the inbox badge
    with django_assert_max_num_queries(12) as one:
        assert page.get(url).status_code == 200
    for name in ("second", "third", "fourth"):
        add(name)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = page.get(url).content.decode()
    assert html.count('class="rater"') == 4
