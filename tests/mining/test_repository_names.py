"""Repository names follow GitHub's rules wherever one is accepted (issue #12): the owner is
letters, digits and single hyphens, neither first nor last, at most 39 characters; the name
is letters, digits, '.', '_' and '-', at most 100, and not '.' or '..' (`a/..` was mined
as /repos/issues)."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from dataset.formats import parse_link
from dataset.importing import ImportFailed, Source, import_dataset
from mining.models import Repository
from mining.progress import parse_full_name, parse_issue_link

BAD = [
    "a/..",
    "a/.",
    "-a/b",
    "a-/b",
    "a--b/c",
    "a" * 40 + "/b",
    "a/" + "b" * 101,
    "a_b/c",
    "a/b c",
]
GOOD = ["a/b", "a-b/c.d", "A1/..b", "a/.github", "a" * 39 + "/" + "b" * 100, "a/b_c-d"]


@pytest.mark.parametrize("name", BAD)
def test_names_against_githubs_rules_are_refused_everywhere_they_are_parsed(name):
    with pytest.raises(ValueError):
        parse_full_name(name)
    with pytest.raises(ValueError):
        parse_issue_link(f"https://github.com/{name}/issues/1")
    with pytest.raises(ValueError):
        parse_link(f"https://github.com/{name}/issues/1")


@pytest.mark.parametrize("name", GOOD)
def test_names_by_githubs_rules_are_accepted(name):
    owner, repo = name.split("/")
    assert parse_full_name(name) == (owner, repo)
    assert parse_issue_link(f"https://github.com/{name}/issues/7") == (owner, repo, 7)
    assert parse_link(f"https://github.com/{name}/issues/7").name == repo


def test_the_api_form_command_and_import_refuse_a_dot_dot_name(project, cast, api_for, client_for):
    api = api_for(cast["owner"])
    url = reverse("api-mining-repositories", args=[project.slug])
    response = api.post(url, {"full_name": "a/.."}, format="json")
    assert response.status_code == 400
    assert "a/.." in response.json()["fields"]["full_name"][0]
    page = client_for(cast["owner"]).post(
        reverse("mining-repositories", args=[project.slug]), {"full_name": "a/.."}
    )
    assert "is not a repository name" in page.content.decode()
    with pytest.raises(CommandError, match="a/.."):
        call_command("mine", "a/..", "--project", project.slug)
    record = {
        "link": "https://github.com/a/../issues/1",
        "status": "open",
        "SYMPTOM": "Crash",
        "ROOT CAUSE": "Hardware and Resource Limitations",
        "STAGE": "Inference",
    }
    with pytest.raises(ImportFailed, match="r.json, record 1, field 'link'"):
        import_dataset(project=project, sources=[Source("r.json", json.dumps([record]).encode())])
    assert not Repository.objects.filter(name="..").exists()
