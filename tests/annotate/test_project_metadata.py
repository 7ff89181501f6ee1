"""A project's license and authors, as releases cite them (issue #20): edited on the
settings page one author per line, ORCID iDs checked by their check digit."""

import json

import pytest
from django.urls import reverse

from annotate.projects.metadata import (
    MetadataError,
    authors_text,
    orcid_checksum_ok,
    parse_authors,
)


@pytest.mark.parametrize(
    ("orcid", "ok"),
    [
        ("0000-0002-1825-0097", True),  # ORCID's documented examples
        ("0000-0001-5109-3700", True),
        ("0000-0002-1694-233X", True),
        ("0000-0002-1825-0098", False),
        ("0000-0002-1694-2339", False),
    ],
)
def test_orcid_check_digit_is_iso_7064_mod_11_2(orcid, ok):
    assert orcid_checksum_ok(orcid) is ok


def test_author_lines_parse_and_print_back_unchanged():
    text = (
        "Lovelace, Ada; Analytical Engines; https://orcid.org/0000-0002-1825-0097\n"
        "\n"
        "Hopper, Grace\n"
        "Turing; ; 0000-0001-5109-3700"
    )
    authors = parse_authors(text)
    assert authors == [
        {
            "family": "Lovelace",
            "given": "Ada",
            "affiliation": "Analytical Engines",
            "orcid": "0000-0002-1825-0097",
        },
        {"family": "Hopper", "given": "Grace", "affiliation": "", "orcid": ""},
        {"family": "Turing", "given": "", "affiliation": "", "orcid": "0000-0001-5109-3700"},
    ]
    assert parse_authors(authors_text(authors)) == authors


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Lovelace, Ada; X; 0000-0002-1825-0098", "line 1 .*wrong check digit"),
        ("Hopper\n, Grace", "line 2 has no family name"),
        ("A; b; 0000-0002-1825-0097; extra", "line 1 has more than three parts"),
        ("A; b; 1234", "'1234' is not an ORCID iD"),
        ("A" * 301, "longer than 300"),
    ],
)
def test_bad_author_lines_are_named(text, message):
    with pytest.raises(MetadataError, match=message):
        parse_authors(text)


def _settings_post(project, **changes):
    data = {
        "name": project.name,
        "description": project.description,
        "guidelines": project.guidelines,
        "overlap": project.overlap,
        "assignment_timeout_minutes": project.assignment_timeout_minutes,
        "license": project.license,
        "authors_text": "",
        "save_settings": "1",
    }
    data.update(changes)
    return data


def test_owner_sets_license_and_authors_on_the_settings_page(project, cast, client_for, api_for):
    owner = client_for(cast["owner"])
    url = reverse("project-settings", args=[project.slug])
    page = owner.get(url).content.decode()
    assert "Dataset license" in page and "Dataset authors" in page
    response = owner.post(
        url,
        _settings_post(
            project, license="ODbL-1.0", authors_text="Lovelace, Ada; Engines; 0000-0002-1825-0097"
        ),
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.license == "ODbL-1.0"
    assert project.authors[0]["orcid"] == "0000-0002-1825-0097"
    assert "Lovelace, Ada; Engines; 0000-0002-1825-0097" in owner.get(url).content.decode()
    detail = api_for(cast["annotator_a"]).get(reverse("api-project", args=[project.slug])).json()
    assert detail["license"] == "ODbL-1.0" and detail["authors"][0]["family"] == "Lovelace"


def test_a_bad_orcid_or_license_is_refused_and_nothing_is_saved(project, cast, client_for):
    owner = client_for(cast["owner"])
    url = reverse("project-settings", args=[project.slug])
    response = owner.post(
        url, _settings_post(project, name="Renamed", authors_text="X; Y; 0000-0002-1825-0098")
    )
    assert response.status_code == 200
    assert "wrong check digit" in response.content.decode()
    response = owner.post(url, _settings_post(project, name="Renamed", license="WTFPL"))
    assert response.status_code == 200 and "WTFPL" in response.content.decode()
    project.refresh_from_db()
    assert project.name == "LLM failures" and project.license == "CC-BY-4.0"
    assert project.authors == []


@pytest.mark.parametrize("name", ["Two\nlines", "Tab\there", "Bell\x07", "N\x85EL"])
def test_a_project_name_is_one_line_everywhere_it_is_written(
    project, cast, client_for, api_for, name
):
    cast["owner"].is_staff = True  # staff create projects
    cast["owner"].save()
    owner = client_for(cast["owner"])
    response = owner.post(
        reverse("project-settings", args=[project.slug]), _settings_post(project, name=name)
    )
    assert response.status_code == 200 and "must be one line" in response.content.decode()
    response = owner.post(reverse("project-create"), {"name": name, "slug": "two-lines"})
    assert response.status_code == 400 and "must be one line" in response.content.decode()
    response = api_for(cast["owner"]).post(
        reverse("api-projects"), {"name": name, "slug": "two-lines"}, format="json"
    )
    assert response.status_code == 400 and "name" in response.json()["fields"]
    project.refresh_from_db()
    assert project.name == "LLM failures"


def test_zenodo_and_the_hub_each_get_their_own_license_identifier(project):
    from datetime import UTC, datetime

    from dataset.hub import dataset_card, zenodo_json

    project.license = "ODbL-1.0"
    released = datetime(2026, 12, 3, tzinfo=UTC)
    assert json.loads(zenodo_json(project, "1", released))["license"] == "odbl-1.0"
    card = dataset_card(project, "1", released, columns=[], dimension_columns={}, rows={"final": 0})
    assert "license: odbl\n" in card
