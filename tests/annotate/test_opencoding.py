"""Open coding (issue #17): phases, proposals while labeling, the board's decisions (merge,
map, promote) with the labels following, and the proposals' privacy."""

import pytest

from annotate.labeling.submission import submit_annotation
from annotate.models import (
    AnnotationLabel,
    AuditEvent,
    Category,
    CategoryProposal,
    CodebookChange,
)
from annotate.opencoding import services
from tests.builders import HANG, OOM, LabelBuilder, record
from tests.factories import AssignmentFactory, ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pilot(project, cast):
    return services.switch_phase(project=project, actor=cast["lead"], phase="pilot")


@pytest.fixture
def held(pilot, cast):
    """Two items, each assigned to both annotators, a labeled by annotator_a."""
    labels = LabelBuilder(pilot)
    items = ItemFactory.create_batch(2, project=pilot)
    for item in items:
        for name in ("annotator_a", "annotator_b"):
            AssignmentFactory(item=item, annotator=cast[name])
        labels.annotate(item, cast["annotator_a"], [record(symptom=OOM)])
    return items


def propose(api, project, item, name, **extra):
    body = {"item": item.pk, "dimension": "symptom", "name": name,
            "evidence": f"quote for {name}", **extra}  # fmt: skip
    return api.post(f"/api/projects/{project.slug}/proposals/", body, format="json")


def test_switching_phase_is_a_codebook_version(project, cast, api_for):
    before = project.codebook_version
    reply = api_for(cast["lead"]).post(f"/api/projects/{project.slug}/phase/", {"phase": "pilot"})
    assert reply.status_code == 200 and reply.json()["phase"] == "pilot"
    assert reply.json()["codebook_version"] == before + 1
    reply = api_for(cast["lead"]).post(f"/api/projects/{project.slug}/phase/", {"phase": "main"})
    assert reply.json()["main_since_version"] == before + 2
    assert CodebookChange.objects.filter(project=project, kind="phase").count() == 2
    again = api_for(cast["lead"]).post(f"/api/projects/{project.slug}/phase/", {"phase": "main"})
    assert again.json()["codebook_version"] == before + 2  # idempotent
    assert (
        api_for(cast["annotator_a"])
        .post(f"/api/projects/{project.slug}/phase/", {"phase": "pilot"})
        .status_code
        == 403
    )
    bad = api_for(cast["lead"]).post(f"/api/projects/{project.slug}/phase/", {"phase": "x"})
    assert bad.status_code == 400 and "phase" in bad.json()["fields"]


def test_proposals_only_in_the_pilot(project, cast, api_for):
    item = ItemFactory(project=project)
    AssignmentFactory(item=item, annotator=cast["annotator_a"])
    reply = propose(api_for(cast["annotator_a"]), project, item, "Tokenizer Crash")
    assert reply.status_code == 400 and "pilot" in reply.json()["detail"]
    assert not CategoryProposal.objects.exists()


def test_annotator_proposes_on_a_held_item_only(pilot, held, cast, api_for):
    reply = propose(api_for(cast["annotator_a"]), pilot, held[0], "Tokenizer Crash",
                    definition="The tokenizer raises.")  # fmt: skip
    assert reply.status_code == 201, reply.content
    assert reply.json()["status"] == "open" and reply.json()["author"] == "annotator_a"
    other = ItemFactory(project=pilot)
    # Not assigned to the caller: not among the items they see.
    assert propose(api_for(cast["annotator_a"]), pilot, other, "X").status_code == 404
    assert propose(api_for(cast["outsider"]), pilot, held[0], "X").status_code == 404


@pytest.mark.parametrize(
    "extra, message",
    [({"name": ""}, "name"), ({"name": "Crash"}, "already exists"), ({"dimension": "nope"}, "nope"),
     ({"parent": 999999}, "parent"), ({"name": "a > b"}, "cannot contain"),
     ({"record": 50}, "record"), ({"evidence": "x" * 6000}, "evidence")],
)  # fmt: skip
def test_bad_proposals_are_named_and_write_nothing(pilot, held, cast, api_for, extra, message):
    reply = propose(api_for(cast["annotator_a"]), pilot, held[0], **{"name": "Fine", **extra})
    assert reply.status_code == 400
    assert message in str(reply.json()).lower() or message in str(reply.json())
    assert not CategoryProposal.objects.exists()


def test_proposals_are_private_until_decided(pilot, held, cast, api_for):
    propose(api_for(cast["annotator_a"]), pilot, held[0], "Tokenizer Crash")
    url = f"/api/projects/{pilot.slug}/proposals/"
    assert [p["name"] for p in api_for(cast["annotator_a"]).get(url).json()] == ["Tokenizer Crash"]
    assert api_for(cast["annotator_b"]).get(url).json() == []
    assert len(api_for(cast["lead"]).get(url).json()) == 1
    proposal = CategoryProposal.objects.get()
    services.promote_proposal(project=pilot, actor=cast["lead"], proposal=proposal)
    assert [p["status"] for p in api_for(cast["annotator_b"]).get(url).json()] == ["promoted"]


def test_promote_adds_a_category_and_the_label_follows(pilot, held, cast, api_for):
    propose(api_for(cast["annotator_a"]), pilot, held[0], "Tokenizer Crash")
    proposal = CategoryProposal.objects.get()
    version = pilot.codebook_version
    reply = api_for(cast["lead"]).post(
        f"/api/projects/{pilot.slug}/proposals/{proposal.pk}/decision/",
        {"action": "promote"}, format="json",
    )  # fmt: skip
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["status"] == "promoted" and body["category_path"] == "Tokenizer Crash"
    pilot.refresh_from_db()
    assert pilot.codebook_version == version + 1
    label = AnnotationLabel.objects.get(
        item=held[0], annotator=cast["annotator_a"], dimension__key="symptom"
    )
    assert label.category.path == "Tokenizer Crash"
    origin = services.category_origin(pilot, label.category)
    assert origin["items"] == [held[0].pk] and origin["quotes"] == ["quote for Tokenizer Crash"]
    assert origin["promoted_by"] == cast["lead"]
    assert label.category.examples == ["quote for Tokenizer Crash"]


def test_merge_then_map_moves_every_label(pilot, held, cast, api_for):
    labels = LabelBuilder(pilot)
    labels.annotate(held[1], cast["annotator_b"], [record(symptom=OOM)])
    propose(api_for(cast["annotator_a"]), pilot, held[0], "Stuck decoding")
    propose(api_for(cast["annotator_b"]), pilot, held[1], "Decoder stall")
    first, second = CategoryProposal.objects.order_by("id")
    lead = api_for(cast["lead"])
    url = f"/api/projects/{pilot.slug}/proposals/{first.pk}/decision/"
    merged = lead.post(url, {"action": "merge", "proposals": [second.pk]}, format="json")
    assert merged.status_code == 200
    second.refresh_from_db()
    assert second.status == "merged" and second.merged_into_id == first.pk
    hang = labels.category("symptom", HANG)
    mapped = lead.post(url, {"action": "map", "category": hang.pk}, format="json")
    assert mapped.status_code == 200 and mapped.json()["category"] == hang.pk
    second.refresh_from_db()
    assert second.category_id == hang.pk  # the merged one points at it too
    moved = AnnotationLabel.objects.filter(dimension__key="symptom", category=hang)
    assert {(x.item_id, x.annotator.username) for x in moved} == {
        (held[0].pk, "annotator_a"),
        (held[1].pk, "annotator_b"),
    }
    again = lead.post(url, {"action": "promote"}, format="json")
    assert again.status_code == 400 and "decided already" in again.json()["detail"]
    kinds = set(AuditEvent.objects.values_list("kind", flat=True))
    assert {"proposals_merged", "proposal_mapped", "category_proposed"} <= kinds


def test_only_managers_decide(pilot, held, cast, api_for):
    propose(api_for(cast["annotator_a"]), pilot, held[0], "Tokenizer Crash")
    proposal = CategoryProposal.objects.get()
    url = f"/api/projects/{pilot.slug}/proposals/{proposal.pk}/decision/"
    assert api_for(cast["annotator_a"]).post(url, {"action": "promote"}).status_code == 403
    assert api_for(cast["outsider"]).post(url, {"action": "promote"}).status_code == 404
    assert (
        api_for(cast["lead"])
        .post(f"/api/projects/{pilot.slug}/proposals/99999999/decision/", {"action": "promote"})
        .status_code
        == 404
    )
    bad = api_for(cast["lead"]).post(url, {"action": "map", "category": 0}, format="json")
    assert bad.status_code == 400 and "category" in bad.json()["detail"]


def test_labeling_page_panel_and_board(pilot, held, cast, client_for):
    annotator = client_for(cast["annotator_a"])
    label_page = annotator.get(f"/projects/{pilot.slug}/label/{held[0].pk}/")
    assert b"opencoding" not in label_page.content or label_page.status_code == 200
    panel = annotator.get(f"/projects/{pilot.slug}/items/{held[0].pk}/proposals/")
    assert panel.status_code == 200 and b'id="proposal-form"' in panel.content
    posted = annotator.post(
        f"/projects/{pilot.slug}/items/{held[0].pk}/proposals/",
        {"dimension": "symptom", "name": "Tokenizer Crash", "evidence": "boom", "record": "1"},
    )
    assert posted.status_code == 302
    assert CategoryProposal.objects.get().record == 0
    bad = annotator.post(f"/projects/{pilot.slug}/items/{held[0].pk}/proposals/",
                         {"dimension": "symptom", "name": "", "record": "x"})  # fmt: skip
    assert bad.status_code == 400 and b'id="proposal-error"' in bad.content
    assert client_for(cast["annotator_a"]).get(f"/projects/{pilot.slug}/board/").status_code == 403
    board = client_for(cast["lead"]).get(f"/projects/{pilot.slug}/board/")
    assert board.status_code == 200 and b"Tokenizer Crash" in board.content
    assert b"boom" in board.content


def test_the_schema_documents_the_open_coding_endpoints(client):
    schema = client.get("/api/schema/?format=json").content.decode()
    for path in ("/proposals/", "/proposals/{proposal_id}/decision/", "/phase/", "/planner/",
                 "/saturation/"):  # fmt: skip
        assert f"/api/projects/{{slug}}{path}" in schema, path


@pytest.mark.parametrize(
    "form",
    [{"action": "map", "category": "abc"}, {"action": "map"}, {"action": "merge", "proposals": "x"},
     {"action": "merge"}, {"action": "nope"}, {"action": "promote", "name": "a > b"}],
)  # fmt: skip
def test_hostile_board_forms_are_400_and_change_nothing(pilot, held, cast, api_for, client_for,
                                                        form):  # fmt: skip
    propose(api_for(cast["annotator_a"]), pilot, held[0], "Tokenizer Crash")
    proposal = CategoryProposal.objects.get()
    reply = client_for(cast["lead"]).post(
        f"/projects/{pilot.slug}/board/{proposal.pk}/decide/", form
    )
    assert reply.status_code == 400
    proposal.refresh_from_db()
    assert proposal.status == "open" and proposal.category is None


def test_two_leads_deciding_the_same_proposal_at_once_decide_it_once(pilot, held, cast, api_for):
    """Two board requests read the proposal while it is open (two tabs, two leads); the
    second decision must find it decided under the row lock, not trust its stale copy."""
    propose(api_for(cast["annotator_a"]), pilot, held[0], "Tokenizer Crash")
    first = CategoryProposal.objects.get()
    second = CategoryProposal.objects.get()  # the other request's copy, read before
    hang = LabelBuilder(pilot).category("symptom", HANG)
    services.map_proposal(project=pilot, actor=cast["lead"], proposal=first, category=hang)
    with pytest.raises(services.OpenCodingError, match="decided already"):
        services.promote_proposal(project=pilot, actor=cast["owner"], proposal=second)
    assert not Category.objects.filter(dimension__project=pilot, name="Tokenizer Crash").exists()
    proposal = CategoryProposal.objects.get()
    assert proposal.status == "mapped" and proposal.category_id == hang.pk
    label = AnnotationLabel.objects.get(item=held[0], annotator=cast["annotator_a"],
                                        dimension__key="symptom")  # fmt: skip
    assert label.category_id == hang.pk


def test_merging_into_a_proposal_decided_meanwhile_is_refused(pilot, held, cast, api_for):
    LabelBuilder(pilot).annotate(held[1], cast["annotator_b"], [record(symptom=OOM)])
    propose(api_for(cast["annotator_a"]), pilot, held[0], "Stuck decoding")
    propose(api_for(cast["annotator_b"]), pilot, held[1], "Decoder stall")
    target, source = CategoryProposal.objects.order_by("id")
    stale_target = CategoryProposal.objects.get(pk=target.pk)
    services.promote_proposal(project=pilot, actor=cast["lead"], proposal=target)
    with pytest.raises(services.OpenCodingError, match="decided already"):
        services.merge_proposals(project=pilot, actor=cast["owner"], target=stale_target,
                                 sources=[source])  # fmt: skip
    source.refresh_from_db()
    assert source.status == "open" and source.merged_into_id is None


def _wire(labels: dict) -> list:
    return [[{"dimension": k, "category": v} for k, v in labels.items()]]


def test_a_decision_before_the_author_submits_still_reaches_their_label(pilot, held, cast,
                                                                        api_for):  # fmt: skip
    """annotator_b proposes on an item they hold but have not submitted; the lead promotes
    it; when annotator_b then submits with the nearest category (the form needs one), the
    label is the promoted category: the proposed label does not vanish silently."""
    propose(api_for(cast["annotator_b"]), pilot, held[1], "Decoder stall")
    proposal = CategoryProposal.objects.get()
    category = services.promote_proposal(project=pilot, actor=cast["lead"], proposal=proposal)
    submit_annotation(project=pilot, user=cast["annotator_b"], item=held[1],
                      records=_wire(record(symptom=OOM)))  # fmt: skip
    label = AnnotationLabel.objects.get(item=held[1], annotator=cast["annotator_b"],
                                        dimension__key="symptom")  # fmt: skip
    assert label.category_id == category.pk
    # A later resubmission is the author's own choice again.
    submit_annotation(project=pilot, user=cast["annotator_b"], item=held[1],
                      records=_wire(record(symptom=HANG)))  # fmt: skip
    label = AnnotationLabel.objects.get(item=held[1], annotator=cast["annotator_b"],
                                        dimension__key="symptom")  # fmt: skip
    assert label.category.path == HANG


def test_a_second_pending_proposal_for_the_same_label_is_refused(pilot, held, cast, api_for):
    """Two open proposals of one author for one record and dimension would fight over the
    one label: deciding the second silently overwrote what the first became."""
    api = api_for(cast["annotator_a"])
    assert propose(api, pilot, held[0], "Stuck decoding").status_code == 201
    again = propose(api, pilot, held[0], "Decoder stall")
    assert again.status_code == 400 and "Stuck decoding" in again.json()["detail"]
    # Another record, or another item, is a place of its own.
    assert propose(api, pilot, held[0], "Decoder stall", record=1).status_code == 201
    assert propose(api, pilot, held[1], "Decoder stall").status_code == 201
    # Once the first is decided, the author may propose there again.
    first = CategoryProposal.objects.get(name="Stuck decoding")
    services.promote_proposal(project=pilot, actor=cast["lead"], proposal=first)
    assert propose(api, pilot, held[0], "Decoder stall").status_code == 201


def test_only_a_duplicate_name_gets_the_hint_to_label_with_it(pilot, held, cast, api_for):
    api = api_for(cast["annotator_a"])
    bad = propose(api, pilot, held[0], "a > b")
    assert bad.status_code == 400 and "Label the record with it" not in bad.json()["detail"]
    duplicate = propose(api, pilot, held[0], "Crash")
    assert "Label the record with it instead" in duplicate.json()["detail"]


@pytest.mark.parametrize("name", ["\u202eevil", "ok\u2067name\u2069"])
def test_names_with_direction_controls_are_refused(pilot, held, cast, api_for, name):
    """A right-to-left override made the board show '\u202eevil' as 'live' and the card's
    '(#8)' as '(8#)': a name that spoofs what the lead reads."""
    reply = propose(api_for(cast["annotator_a"]), pilot, held[0], name)
    assert reply.status_code == 400 and "direction" in reply.json()["detail"]
    assert not CategoryProposal.objects.exists()
