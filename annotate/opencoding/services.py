"""Open coding (issue #17): the project's phase, categories proposed while labeling in the
pilot, and the lead's decisions on the card-sort board (merge, map, promote).

A proposal stands for its author's label of one failure record on one dimension. The
labeling form still needs a category for a required dimension, so the author picks the
nearest one meanwhile; every decision then moves that label to the category the proposal
became (the labels follow), and the proposal keeps pointing at it: proposed labels never
silently vanish. Promotion is a codebook change (a new version) through the codebook's
own ``add_category``; the category's origin is the proposals that point at it.
"""

from django.db import transaction
from django.utils import timezone

from annotate.access import project_rows
from annotate.codebook.services import CodebookError, _check_name, _record_change, add_category
from annotate.errors import ServiceError
from annotate.limits import too_long
from annotate.models import (
    Annotation,
    AnnotationLabel,
    AuditEvent,
    Category,
    CategoryProposal,
    CodebookChange,
    Dimension,
    Item,
    Project,
)

Status = CategoryProposal.Status
MAX_RECORD = 20


class OpenCodingError(ServiceError):
    """A proposal or decision the open-coding rules do not allow; the message says why."""


@transaction.atomic
def switch_phase(*, project: Project, actor, phase: str) -> Project:
    """Put ``project`` in the pilot or the main phase: a codebook change of its own (a new
    version); the main phase starts at that version. Idempotent: the same phase again
    changes nothing."""
    if phase not in Project.Phase.values:
        raise OpenCodingError(f"The phase is 'pilot' or 'main', not '{phase}'.")
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.phase == phase:
        return project
    _record_change(project, actor, CodebookChange.Kind.PHASE, {"phase": phase})
    project.phase = phase
    project.main_since_version = project.codebook_version if phase == Project.Phase.MAIN else None
    project.save(update_fields=["phase", "main_since_version"])
    return project


def _text(field: str, value: str, label: str) -> str:
    value = (value or "").strip()
    if problem := too_long(field, value, label=label):
        raise OpenCodingError(problem)
    if "\x00" in value:
        raise OpenCodingError(f"The {label} cannot contain null characters.")
    return value


@transaction.atomic
def propose_category(*, project: Project, author, item: Item, dimension: Dimension, name: str,
                     parent: Category | None = None, definition: str = "", evidence: str = "",
                     record: int = 0) -> CategoryProposal:  # fmt: skip
    """A new category proposed by ``author`` for record ``record`` of ``item`` (an item the
    caller reached through the one door). Only in the pilot phase."""
    if project.phase != Project.Phase.PILOT:
        raise OpenCodingError("Categories are proposed in the pilot phase only.")
    if dimension.project_id != project.pk or item.project_id != project.pk:
        raise OpenCodingError("That dimension or item belongs to another project.")
    if parent is not None and parent.dimension_id != dimension.pk:
        raise OpenCodingError("The parent belongs to another dimension.")
    if not 0 <= record < MAX_RECORD:
        raise OpenCodingError(f"The record is a number from 0 to {MAX_RECORD - 1}.")
    try:
        name = _check_name(dimension, parent, name)
    except CodebookError as error:
        hint = " Label the record with it instead." if "already exists" in str(error) else ""
        raise OpenCodingError(f"{error}{hint}") from None
    # A proposal stands for the author's label of this record and dimension: a second
    # undecided one there would have two decisions fight over that one label (the later
    # silently overwriting what the earlier became).
    pending = (
        project_rows(CategoryProposal, project)
        .filter(item=item, author=author, record=record, dimension=dimension,
                category__isnull=True)
        .first()
    )  # fmt: skip
    if pending is not None:
        raise OpenCodingError(
            f"You already proposed '{pending.name}' for record {record + 1}'s "
            f"{dimension.name}; it stands for that label until the lead decides it."
        )
    proposal = CategoryProposal.objects.create(
        project=project, dimension=dimension, parent=parent, name=name,
        definition=_text("description", definition, "definition"),
        evidence=_text("evidence", evidence, "evidence quote"), item=item, record=record,
        author=author, codebook_version=project.codebook_version,
    )  # fmt: skip
    AuditEvent.objects.create(
        project=project, actor=author, item=item, kind="category_proposed",
        payload={"proposal": proposal.pk, "dimension": dimension.key, "name": name},
    )  # fmt: skip
    return proposal


def _open(proposals) -> None:
    """Lock the proposals' rows (in id order) and check, on what the database holds now
    rather than on the caller's copies read before, that none is decided: two board
    requests deciding the same proposal at once decide it once. The copies are refreshed."""
    locked = {
        p.pk: p
        for p in CategoryProposal.objects.select_for_update()
        .filter(pk__in=[p.pk for p in proposals])
        .order_by("pk")
    }
    for proposal in proposals:
        fresh = locked.get(proposal.pk)
        if fresh is None or fresh.status != Status.OPEN:
            raise OpenCodingError(f"Proposal '{proposal.name}' was decided already.")
        proposal.status, proposal.merged_into_id = fresh.status, fresh.merged_into_id
        proposal.category_id = fresh.category_id


def _group(proposal: CategoryProposal) -> list[CategoryProposal]:
    """The proposal and those merged into it (one level: merging flattens)."""
    return [proposal, *proposal.merged.all()]


def _follow(project: Project, proposals, category: Category) -> int:
    """Move each proposal's author's label of its record and dimension to ``category``;
    a submitted annotation without one gets it. Returns labels written."""
    written = 0
    labels = project_rows(AnnotationLabel, project)
    for p in proposals:
        moved = labels.filter(
            item_id=p.item_id,
            annotator_id=p.author_id,
            record=p.record,
            dimension_id=p.dimension_id,
        ).update(category=category)
        if not moved:
            annotation = (
                project_rows(Annotation, project)
                .filter(item_id=p.item_id, annotator_id=p.author_id)
                .first()
            )
            if annotation is not None and not annotation.out_of_scope:
                AnnotationLabel.objects.create(
                    annotation=annotation, item_id=p.item_id, annotator_id=p.author_id,
                    record=p.record, dimension_id=p.dimension_id, category=category,
                    evidence=p.evidence[:5000],
                )  # fmt: skip
                moved = 1
        written += moved
    return written


def _decide(proposals, status_of, category: Category, actor) -> None:
    now = timezone.now()
    for p in proposals:
        p.status = status_of(p)
        p.category = category
        p.decided_by = actor
        p.decided_at = now
        p.save(update_fields=["status", "category", "decided_by", "decided_at"])


@transaction.atomic
def merge_proposals(*, project: Project, actor, target: CategoryProposal,
                    sources: list[CategoryProposal]) -> CategoryProposal:  # fmt: skip
    """Fold ``sources`` into ``target`` (same dimension): decided together from now on."""
    sources = [s for s in sources if s.pk != target.pk]
    if not sources:
        raise OpenCodingError("Choose at least one other proposal to merge.")
    _open([target, *sources])
    for source in sources:
        if source.dimension_id != target.dimension_id:
            raise OpenCodingError("Only proposals of the same dimension can be merged.")
    moved = CategoryProposal.objects.filter(merged_into__in=sources)
    moved.update(merged_into=target)
    for source in sources:
        source.status = Status.MERGED
        source.merged_into = target
        source.decided_by = actor
        source.decided_at = timezone.now()
        source.save(update_fields=["status", "merged_into", "decided_by", "decided_at"])
    AuditEvent.objects.create(
        project=project, actor=actor, kind="proposals_merged",
        payload={"into": target.pk, "from": [s.pk for s in sources]},
    )  # fmt: skip
    return target


@transaction.atomic
def map_proposal(*, project: Project, actor, proposal: CategoryProposal,
                 category: Category) -> int:  # fmt: skip
    """Decide that ``proposal`` (and those merged into it) is ``category``, an existing
    category of its dimension; the labels follow. Returns labels moved."""
    _open([proposal])
    if category.dimension_id != proposal.dimension_id or category.retired:
        raise OpenCodingError("Map onto an active category of the proposal's dimension.")
    group = _group(proposal)
    _decide(group, lambda p: Status.MAPPED if p.pk == proposal.pk else Status.MERGED,
            category, actor)  # fmt: skip
    moved = _follow(project, group, category)
    AuditEvent.objects.create(
        project=project, actor=actor, kind="proposal_mapped",
        payload={"proposal": proposal.pk, "category": category.pk, "labels": moved},
    )  # fmt: skip
    return moved


@transaction.atomic
def promote_proposal(*, project: Project, actor, proposal: CategoryProposal, name: str = "",
                     definition: str | None = None) -> Category:  # fmt: skip
    """Add ``proposal`` to the codebook as a new category (a new codebook version), its
    quotes as examples; it and the proposals merged into it point at the new category and
    their labels follow."""
    _open([proposal])
    group = _group(proposal)
    try:
        category = add_category(
            project=project, actor=actor, dimension=proposal.dimension,
            name=name or proposal.name, parent=proposal.parent,
            description=proposal.definition if definition is None else definition,
            examples=list(dict.fromkeys(p.evidence[:1000] for p in group if p.evidence))[:50],
        )  # fmt: skip
    except CodebookError as error:
        raise OpenCodingError(str(error)) from None
    _decide(group, lambda p: Status.PROMOTED if p.pk == proposal.pk else Status.MERGED,
            category, actor)  # fmt: skip
    moved = _follow(project, group, category)
    AuditEvent.objects.create(
        project=project, actor=actor, kind="proposal_promoted",
        payload={"proposals": [p.pk for p in group], "category": category.pk,
                 "items": sorted({p.item_id for p in group}), "labels": moved,
                 "version": project.codebook_version},
    )  # fmt: skip
    return category


def category_origin(project: Project, category: Category) -> dict:
    """Where a category came from: the proposals that became it (with their items and
    quotes) and who promoted it when; empty lists for a category of the original codebook."""
    proposals = list(
        project_rows(CategoryProposal, project)
        .filter(category=category)
        .select_related("author", "decided_by")
        .order_by("created_at", "id")
    )
    promoted = next((p for p in proposals if p.status == Status.PROMOTED), None)
    return {
        "proposals": proposals,
        "items": sorted({p.item_id for p in proposals}),
        "quotes": [p.evidence for p in proposals if p.evidence],
        "promoted_by": promoted.decided_by if promoted else None,
        "promoted_at": promoted.decided_at if promoted else None,
    }
