"""Blindness of category proposals (issue #17): what annotator_a proposed on an item that
is not settled (its name, definition and quote) reaches neither annotator_b nor an
outsider on any GET URL of the site, until the lead decides it."""

import pytest

from annotate.models import Dimension
from annotate.opencoding import services

from .test_blindness import SECRET, _get_urls, _read, _reader, leaks_to
from .world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal_world(cast, project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world(cast, project, text=lambda name: SECRET.format(name))
    world.project = services.switch_phase(project=project, actor=cast["lead"], phase="pilot")
    for key in ("half", "conflict"):
        services.propose_category(
            project=world.project, author=cast["annotator_a"], item=world.items[key],
            dimension=Dimension.objects.get(project=project, key="symptom"),
            name=f"zq7 name {key}", definition=f"zq7-definition-{key}",
            evidence=f"zq7-quote-{key}",
        )  # fmt: skip
    return world


def test_open_proposals_of_a_reach_neither_b_nor_an_outsider(proposal_world):
    world = proposal_world
    secrets = [f"zq7{part}{key}".encode() for part in (" name ", "-definition-", "-quote-")
               for key in ("half", "conflict")]  # fmt: skip
    urls = _get_urls(world, list(world.items))
    urls.append(f"/api/projects/{world.project.slug}/proposals/")
    assert not leaks_to(world, urls, secrets, ("annotator_b", "outsider"))
    # The author and the lead do see them.
    author = _reader(world, "annotator_a")
    _, own = _read(author, f"/api/projects/{world.project.slug}/proposals/")
    assert b"zq7-quote-half" in own
    _, board = _read(_reader(world, "lead"), f"/projects/{world.project.slug}/board/")
    assert b"zq7-quote-conflict" in board


def test_a_proposal_merged_into_an_open_one_stays_private(proposal_world, cast):
    """Merging is not deciding: a proposal merged into another that is still open on the
    board (its item not settled) must not reach annotator_b."""
    world = proposal_world
    from annotate.models import CategoryProposal

    half = CategoryProposal.objects.get(project=world.project, name="zq7 name half")
    conflict = CategoryProposal.objects.get(project=world.project, name="zq7 name conflict")
    services.merge_proposals(project=world.project, actor=cast["lead"], target=conflict,
                             sources=[half])  # fmt: skip
    secrets = [b"zq7 name half", b"zq7-definition-half", b"zq7-quote-half"]
    urls = _get_urls(world, list(world.items))
    urls.append(f"/api/projects/{world.project.slug}/proposals/")
    assert not leaks_to(world, urls, secrets, ("annotator_b", "outsider"))
