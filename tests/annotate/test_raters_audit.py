"""Adding, changing and removing a machine rater is written to the project's audit trail
(who, when, the settings from and to), never with the key: only whether one is stored and
whether a change replaced or removed it. Bad input changes nothing and writes no event."""

import json

from annotate.models import AuditEvent, Rater, RaterRun
from annotate.raters import runs

SECRET = "sk-audit-5b1e77"
NEW_SECRET = "sk-audit-rotated-0c2"


def _url(project, *rest):
    return f"/api/projects/{project.slug}/raters/" + "".join(f"{r}/" for r in rest)


def _events(project, kind):
    return list(AuditEvent.objects.filter(project=project, kind=kind).order_by("id"))


def _no_key_in_the_trail(project):
    trail = json.dumps(list(AuditEvent.objects.filter(project=project).values("payload")))
    assert SECRET not in trail and NEW_SECRET not in trail


def _add(api, project):
    body = {"kind": "openai", "name": "qwen", "model": "qwen2.5", "api_key": SECRET,
            "base_url": "http://127.0.0.1:8000/v1", "temperature": 0.2}  # fmt: skip
    response = api.post(_url(project), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_adding_a_rater_is_audited_without_its_key(project, cast, api_for):
    rater = _add(api_for(cast["lead"]), project)
    (event,) = _events(project, "rater_added")
    assert event.actor == cast["lead"] and event.item is None
    assert event.payload == {
        "rater": rater["id"],
        "key": "stored",
        "settings": {"kind": "openai", "name": "qwen", "model": "qwen2.5",
                     "base_url": "http://127.0.0.1:8000/v1", "prompt_version": "v1",
                     "temperature": 0.2, "seed": None, "runs_per_start": 1,
                     "visible_in_adjudication": False},
    }  # fmt: skip
    _no_key_in_the_trail(project)


def test_changing_a_rater_is_audited_field_by_field_and_the_key_only_as_replaced(
    project, cast, api_for
):
    api = api_for(cast["lead"])
    rater = _add(api, project)
    change = {"name": "qwen 7b", "temperature": 0.7, "api_key": NEW_SECRET, "model": "qwen2.5"}
    response = api.patch(_url(project, rater["id"]), change, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "qwen 7b" and "api_key" not in response.json()
    assert Rater.objects.get(pk=rater["id"]).api_key() == NEW_SECRET
    (event,) = _events(project, "rater_changed")
    assert event.actor == cast["lead"]
    assert event.payload == {
        "rater": rater["id"],
        "name": "qwen 7b",
        "changes": {"name": {"from": "qwen", "to": "qwen 7b"},
                    "temperature": {"from": 0.2, "to": 0.7}},
        "key": "replaced",
    }  # fmt: skip
    # Nothing changed, nothing written; the key removed is written as removed.
    same = api.patch(_url(project, rater["id"]), {"model": "qwen2.5"}, format="json")
    assert same.status_code == 200 and len(_events(project, "rater_changed")) == 1
    cleared = api.patch(_url(project, rater["id"]), {"clear_api_key": True}, format="json")
    assert cleared.status_code == 200
    assert _events(project, "rater_changed")[-1].payload["key"] == "removed"
    assert not Rater.objects.get(pk=rater["id"]).has_api_key
    _no_key_in_the_trail(project)


def test_a_bad_change_names_the_field_changes_nothing_and_writes_no_event(project, cast, api_for):
    api = api_for(cast["lead"])
    rater = _add(api, project)
    api.post(_url(project), {"kind": "builtin", "name": "tfidf"}, format="json")
    for body, field, code in [
        ({"temperature": 9}, "temperature", 400),
        ({"base_url": "ftp://h/v1", "name": "renamed"}, "base_url", 400),
        ({"model": ""}, "model", 400),
        ({"name": "tfidf"}, None, 409),
    ]:
        response = api.patch(_url(project, rater["id"]), body, format="json")
        assert response.status_code == code, response.content
        if field:
            assert field in response.json()["fields"]
    stored = Rater.objects.get(pk=rater["id"])
    assert (stored.name, stored.temperature, stored.model) == ("qwen", 0.2, "qwen2.5")
    assert not _events(project, "rater_changed")


def test_removing_a_rater_is_audited_and_refused_while_a_run_is_active(
    project, cast, api_for, items
):
    api = api_for(cast["owner"])
    rater = api.post(_url(project), {"kind": "builtin", "name": "tfidf"}, format="json").json()
    assert api.post(_url(project, rater["id"], "runs")).status_code == 202
    busy = api.delete(_url(project, rater["id"]))
    assert busy.status_code == 409 and not _events(project, "rater_removed")
    RaterRun.objects.filter(rater_id=rater["id"]).update(status="failed")
    assert api.delete(_url(project, rater["id"])).status_code == 204
    assert not Rater.objects.filter(pk=rater["id"]).exists()
    (event,) = _events(project, "rater_removed")
    assert event.actor == cast["owner"]
    assert event.payload["rater"] == rater["id"] and event.payload["runs"] == 1
    assert event.payload["settings"]["name"] == "tfidf" and event.payload["key"] == "none"


def test_the_page_changes_and_removes_raters_audited_and_only_for_leads(project, cast, client_for):
    rater = runs.add_rater(project=project, user=cast["lead"], kind="builtin", name="tfidf")
    prefix = f"rater-{rater.pk}-"
    form = {prefix + "name": "tfidf v2", prefix + "temperature": "0", prefix + "seed": "4",
            prefix + "runs_per_start": "1", prefix + "prompt_version": "v1"}  # fmt: skip
    edit = f"/projects/{project.slug}/raters/{rater.pk}/edit/"
    remove = f"/projects/{project.slug}/raters/{rater.pk}/remove/"
    for outsider in ("annotator_a", "outsider"):
        client = client_for(cast[outsider])
        assert client.post(edit, form).status_code in (403, 404)
        assert client.post(remove).status_code in (403, 404)
    assert not _events(project, "rater_changed") and not _events(project, "rater_removed")
    lead = client_for(cast["lead"])
    page = lead.get(f"/projects/{project.slug}/raters/").content.decode()
    assert f'name="{prefix}name"' in page and 'value="tfidf"' in page
    bad = lead.post(edit, {**form, prefix + "temperature": "7"}, follow=True)
    assert "tfidf was not changed" in bad.content.decode() and not _events(project, "rater_changed")
    assert lead.post(edit, form).status_code == 302
    (event,) = _events(project, "rater_changed")
    assert event.payload["changes"] == {
        "name": {"from": "tfidf", "to": "tfidf v2"},
        "seed": {"from": None, "to": 4},
    }
    assert lead.post(remove).status_code == 302
    assert not Rater.objects.filter(pk=rater.pk).exists()
    assert _events(project, "rater_removed")[0].actor == cast["lead"]
