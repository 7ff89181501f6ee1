"""One item as the browser shows it to the caller: its history (assignments, submissions,
decisions, send-backs, with times and people's names), its labels and its final label.

The wall: an annotator reads their own assignment, events and labels; the others' only
once the item is settled, and then by letter ("Annotator B"), never by name. While the
item is in discussion they also read the lead's send-back (its note is addressed to them).
Leads and owners read everything, names hidden behind letters where the project hides
them (annotate.access.names_hidden_from)."""

from dataclasses import dataclass, field

from annotate.access import (
    MANAGERS,
    has_role,
    names_hidden_from,
    project_dimensions,
    project_rows,
    readable_final_label,
    side_letter,
)
from annotate.models import Annotation, Assignment, AuditEvent, FinalLabel, Item
from annotate.records import grouped, named_paths

EVENT_LABELS = {
    "annotation_submitted": "Labels submitted",
    "annotation_replaced": "Labels replaced",
    "item_skipped": "Skipped",
    "calibration_pinned": "Pinned as a calibration item",
    "conflict": "Conflict found",
    "settled": "Settled by agreement",
    "adjudicated": "Adjudicated",
    "discussion_started": "Sent back for discussion",
    "discussion_ended": "Discussion ended",
    "reopened": "Re-opened",
    "codebook_split_reopened": "Re-opened by a codebook split",
}
# What an annotator reads of the lead's steps while the item is not settled yet.
SEND_BACKS = {"discussion_started"}
# An annotator's own steps. Other events can name them as their actor too (the conflict
# their submission completed), but those tell what the other annotator did: settled only.
OWN_STEPS = {"annotation_submitted", "annotation_replaced", "item_skipped"}


@dataclass
class Entry:
    when: object
    who: str
    what: str
    detail: str = ""
    records: list = field(default_factory=list)  # [[(dimension name, path)]]


@dataclass
class ItemView:
    history: list
    annotations: list  # dicts: name, annotation, records (label rows grouped)
    final: FinalLabel | None
    final_records: list
    others_hidden: bool


def _namer(item: Item, membership, annotator_ids: list[int]):
    """How the page names a person: "You", a letter for an annotator the caller may not
    name, the username otherwise; "system" for nobody."""
    letters = {pk: f"Annotator {side_letter(i)}" for i, pk in enumerate(annotator_ids)}
    manager = has_role(membership, MANAGERS)
    hidden = names_hidden_from(item.project, membership) if manager else True

    def name(user) -> str:
        if user is None:
            return "system"
        if user.pk == membership.user_id:
            return "You"
        if hidden and user.pk in letters:
            return letters[user.pk]
        return user.username

    return name


def item_view(*, item: Item, membership) -> ItemView:
    """What the caller reads of `item` (already reached through get_item_for_user)."""
    project = item.project
    manager = has_role(membership, MANAGERS)
    settled = item.state == Item.State.SETTLED
    sees_all = manager or settled
    annotations = list(
        project_rows(Annotation, project)
        .filter(item=item)
        .select_related("annotator")
        .prefetch_related("labels__dimension", "labels__category")
        .order_by("created_at", "id")
    )
    assignments = list(
        project_rows(Assignment, project)
        .filter(item=item)
        .select_related("annotator")
        .order_by("assigned_at", "id")
    )
    # Letters for everyone who labeled or held the item (an expired holder too), so that
    # an annotator never reads another's name.
    people = [a.annotator_id for a in annotations]
    people += [a.annotator_id for a in assignments if a.annotator_id not in people]
    name = _namer(item, membership, people)
    me = membership.user_id
    dimension_names = dict(project_dimensions(project).values_list("key", "name"))
    history = []
    for assignment in assignments:
        if not sees_all and assignment.annotator_id != me:
            continue
        state = assignment.get_state_display()
        history.append(Entry(assignment.assigned_at, name(assignment.annotator), "Assigned", state))
    events = project_rows(AuditEvent, project).filter(item=item).select_related("actor")
    for event in events:
        mine = event.actor_id == me and event.kind in OWN_STEPS
        if not (sees_all or mine or (event.kind in SEND_BACKS and item.discussed)):
            continue
        payload = event.payload if isinstance(event.payload, dict) else {}
        final = payload.get("final") if isinstance(payload.get("final"), dict) else {}
        detail = payload.get("note") or payload.get("reason") or final.get("rationale") or ""
        history.append(
            Entry(
                event.created_at,
                name(event.actor),
                EVENT_LABELS.get(event.kind, event.kind.replace("_", " ").capitalize()),
                str(detail),
                named_paths(payload.get("records") or final.get("records"), dimension_names),
            )
        )
    history.sort(key=lambda entry: entry.when)
    shown = [
        {
            "name": name(a.annotator),
            "annotation": a,
            "records": grouped(a.labels.all(), dimension_order=True),
        }
        for a in annotations
        if sees_all or a.annotator_id == me
    ]
    final = FinalLabel.objects.filter(item=item).select_related("decided_by").first()
    if not manager:
        item.final_label = final
        final = readable_final_label(item)
    final_records = []
    if final is not None:
        labels = final.labels.select_related("dimension", "category")
        final_records = grouped(labels, dimension_order=True)
    return ItemView(
        history=history,
        annotations=shown,
        final=final,
        final_records=final_records,
        others_hidden=not sees_all,
    )
