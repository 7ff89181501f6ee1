"""Calibration of new coders (issue #17, docs/opencoding.md): the lead's gold set, a new
coder's blind tries at it, and their score against the gold labels.

A coder whose membership is in calibration gets the gold items before any item of the
main queue (annotate.labeling.queue refuses them the main queue). Their answers are kept in
CalibrationAnswer rows, never as annotations, so no agreement unit, conflict, export or
distribution ever counts them. A try is scored when its last gold item is answered:
Cohen's kappa (analysis.metrics.kappa, Cohen 1960) of the coder against the gold over
every (item, record, dimension) unit, and per dimension the share of agreeing units and
kappa. The coder passes at `Project.calibration_threshold`; after a failed try they start
another fresh one until `Project.calibration_tries` run out, and then the lead decides.
"""

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from annotate.access import has_role, project_rows
from annotate.adjudication.comparison import align_records
from annotate.errors import ServiceError
from annotate.labeling.submission import resolve_labels
from annotate.limits import too_long
from annotate.models import (
    AuditEvent,
    CalibrationAnswer,
    CalibrationLabel,
    CalibrationTry,
    GoldItem,
    GoldLabel,
    Item,
    Membership,
    Project,
    Role,
)

from .metrics.kappa import cohens_kappa, percent_agreement

# Where a scored try keeps the gold labels and rationale it was scored against.
GOLD_KEPT = "gold"
# A unit one side left empty (a record the other side did not give) counts as this.
MISSING = "(none)"


class CalibrationError(ServiceError):
    """A bad calibration request; the message names the problem (HTTP 400)."""


def _checked_records(raw) -> list:
    """`raw` as a list of records, each a list of label objects, or CalibrationError."""
    if not isinstance(raw, list) or len(raw) > 20:
        raise CalibrationError("Records are a list (at most 20) of lists of labels.")
    for record in raw:
        if not isinstance(record, list) or not all(isinstance(x, dict) for x in record):
            raise CalibrationError(
                'Each record is a list of labels like {"dimension": key, "category": id}.'
            )
    return raw


# ---------------------------------------------------------------------------- the gold set


@transaction.atomic
def set_gold_item(*, project: Project, item: Item, records, rationale: str, actor) -> GoldItem:
    """Make `item` a gold item with the lead's `records` (the submission shape, resolved
    against the codebook) and rationale, or replace its gold labels. Idempotent."""
    rationale = (rationale or "").strip()
    if not rationale:
        raise CalibrationError("Give the rationale of the gold labels (a rationale is required).")
    if problem := too_long("rationale", rationale):
        raise CalibrationError(problem)
    try:
        labels = resolve_labels(
            project=project, records=_checked_records(records), out_of_scope=False
        )
    except ServiceError as error:
        raise CalibrationError(str(error)) from None
    gold, _ = GoldItem.objects.update_or_create(
        project=project, item=item, defaults={"rationale": rationale, "created_by": actor}
    )
    GoldLabel.objects.filter(gold=gold).delete()
    GoldLabel.objects.bulk_create(
        GoldLabel(
            gold=gold, record=label.record, dimension=label.dimension, category=label.category
        )
        for label in labels
    )
    AuditEvent.objects.create(
        project=project,
        item=item,
        actor=actor,
        kind="gold_item_set",
        payload={"rationale": rationale},
    )
    return gold


@transaction.atomic
def remove_gold_item(*, project: Project, item: Item, actor) -> bool:
    """Take `item` out of the gold set (its past answers go with it). Idempotent.

    An open try that has now answered every gold item left is scored at once: its coder
    has nothing left to answer. The last gold item stays while coders are in calibration
    (they would have nothing to label and no way to the queue)."""
    gold = project_rows(GoldItem, project).filter(item=item).first()
    if gold is None:
        return False
    waiting = list(
        project_rows(Membership, project)
        .select_for_update()
        .filter(calibration=Membership.Calibration.PENDING)
    )
    left = project_rows(GoldItem, project).exclude(pk=gold.pk).count()
    if waiting and not left:
        raise CalibrationError(
            f"{len(waiting)} coder(s) are in calibration: the gold set cannot be emptied. "
            "Admit them or keep them out first."
        )
    gold.delete()
    AuditEvent.objects.create(project=project, item=item, actor=actor, kind="gold_item_removed")
    for member in waiting:
        attempt = member.calibration_tries.filter(finished_at__isnull=True).first()
        if attempt is not None and attempt.answers.count() >= left:
            _finish(project, member, attempt)
    return True


def gold_items(project: Project):
    """The project's gold set with items and labels, in the sample's order."""
    return (
        project_rows(GoldItem, project)
        .select_related("item__issue__repository")
        .prefetch_related("labels__dimension", "labels__category")
    )


@transaction.atomic
def set_settings(*, project: Project, threshold, tries, actor=None) -> Project:
    """Set the pass threshold (kappa, -1..1) and the number of tries (1..20). A coder in
    calibration who has already used the new number of tries, none passed, fails out (the
    lead decides), as if their last try had been the last."""
    problem = "The threshold is a number and the tries a whole number."
    # JSON true is no kappa, and 2.7 tries no count.
    fraction = isinstance(tries, float) and not tries.is_integer()
    if isinstance(threshold, bool) or isinstance(tries, bool) or fraction:
        raise CalibrationError(problem)
    try:
        threshold, tries = float(threshold), int(tries)
    except (TypeError, ValueError):
        raise CalibrationError(problem) from None
    if not -1.0 <= threshold <= 1.0:
        raise CalibrationError("The threshold is a kappa between -1 and 1.")
    if not 1 <= tries <= 20:
        raise CalibrationError("The number of tries is between 1 and 20.")
    project.calibration_threshold, project.calibration_tries = threshold, tries
    project.save(update_fields=["calibration_threshold", "calibration_tries"])
    waiting = (
        project_rows(Membership, project)
        .select_for_update()
        .filter(calibration=Membership.Calibration.PENDING)
    )
    for member in waiting:
        last = member.calibration_tries.order_by("-number").first()
        if last is not None and last.finished_at is not None and last.number >= tries:
            _set_state(project, member, Membership.Calibration.FAILED, actor)
    return project


# ---------------------------------------------------------------------------- the coder


@transaction.atomic
def put_in_calibration(*, project: Project, membership: Membership, actor) -> Membership:
    """Send an annotator through the gold set before the main queue (again, with fresh
    tries, when the lead sends them back)."""
    if not has_role(membership, {Role.ANNOTATOR}):
        raise CalibrationError("Only annotators go through calibration.")
    if not project_rows(GoldItem, project).exists():
        raise CalibrationError("The project has no gold set yet: mark gold items first.")
    project_rows(CalibrationTry, project).filter(membership=membership).delete()
    return _set_state(project, membership, Membership.Calibration.PENDING, actor)


def decide(*, project: Project, membership: Membership, passed: bool, actor) -> Membership:
    """The lead's word on a coder in calibration or failed out of it: admit them to the
    main queue or keep them out. Nobody else's queue is the calibration's to close; a
    member who reaches the queue already is left as they are when admitted."""
    undecided = (Membership.Calibration.PENDING, Membership.Calibration.FAILED)
    if membership.calibration not in undecided:
        if passed:
            return membership
        raise CalibrationError(
            "Only a coder in calibration, or who failed out of it, is admitted or kept out."
        )
    state = Membership.Calibration.PASSED if passed else Membership.Calibration.FAILED
    return _set_state(project, membership, state, actor)


def _set_state(project, membership, state, actor) -> Membership:
    membership.calibration = state
    membership.save(update_fields=["calibration"])
    AuditEvent.objects.create(
        project=project,
        actor=actor,
        kind="calibration_state",
        payload={"member": membership.user_id, "state": state},
    )
    return membership


def current_try(project: Project, membership: Membership) -> CalibrationTry | None:
    """The coder's open try, started when the last one failed with tries left; None once
    they passed or failed out (or were never in calibration)."""
    if membership.calibration != Membership.Calibration.PENDING:
        return None
    tries = project_rows(CalibrationTry, project).filter(membership=membership)
    last = tries.order_by("-number").first()
    if last is not None and last.finished_at is None:
        return last
    number = last.number + 1 if last is not None else 1
    if number > project.calibration_tries:
        return None
    return CalibrationTry.objects.get_or_create(membership=membership, number=number)[0]


def next_gold(
    project: Project, membership: Membership
) -> tuple[CalibrationTry | None, GoldItem | None]:
    """The coder's open try and its next unanswered gold item (None when all are in)."""
    attempt = current_try(project, membership)
    if attempt is None:
        return None, None
    answered = attempt.answers.values("gold_id")
    gold = gold_items(project).exclude(pk__in=answered).first()
    return attempt, gold


@transaction.atomic
def answer_gold(*, project: Project, membership: Membership, gold_id, records) -> CalibrationTry:
    """Store the coder's labels of a gold item in their open try; the try's last answer
    scores it. Precondition: the membership is in calibration (else CalibrationError)."""
    list(project_rows(Membership, project).select_for_update().filter(pk=membership.pk))
    attempt = current_try(project, membership)
    if attempt is None:
        raise CalibrationError("You have no calibration try open.")
    gold = gold_items(project).filter(pk=_id(gold_id)).first()
    if gold is None:
        raise CalibrationError("No such gold item.")
    try:
        labels = resolve_labels(
            project=project, records=_checked_records(records), out_of_scope=False
        )
    except ServiceError as error:
        raise CalibrationError(str(error)) from None
    answer, created = CalibrationAnswer.objects.get_or_create(attempt=attempt, gold=gold)
    if not created:
        raise CalibrationError("You already answered this gold item in this try.")
    CalibrationLabel.objects.bulk_create(
        CalibrationLabel(
            answer=answer,
            record=label.record,
            dimension=label.dimension,
            category=label.category,
            evidence=label.evidence,
        )
        for label in labels
    )
    if attempt.answers.count() >= project_rows(GoldItem, project).count():
        _finish(project, membership, attempt)
    return attempt


def _id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CalibrationError("The gold item is named by its id (a whole number).") from None


@dataclass
class Score:
    kappa: float | None
    agreement: float | None
    dimensions: dict


def score_pairs(pairs) -> Score:
    """Score (dimension key, coder's category, gold category) units: Cohen's kappa and the
    share of agreement overall (pooled) and per dimension."""

    def table(rows):
        names = sorted({c for _, a, b in rows for c in (a, b)})
        index = {name: i for i, name in enumerate(names)}
        counts = [[0] * len(names) for _ in names]
        for _, a, b in rows:
            counts[index[a]][index[b]] += 1
        return counts

    dimensions = {}
    for key in sorted({d for d, _, _ in pairs}):
        rows = [p for p in pairs if p[0] == key]
        counts = table(rows)
        dimensions[key] = {
            "units": len(rows),
            "agreement": percent_agreement(counts).value,
            "kappa": cohens_kappa(counts).kappa,
        }
    # Pooled units: categories of different dimensions never coincide (they are keyed).
    pooled = [(d, f"{d}:{a}", f"{d}:{b}") for d, a, b in pairs]
    counts = table(pooled) if pooled else [[0]]
    return Score(cohens_kappa(counts).kappa, percent_agreement(counts).value, dimensions)


def _records(labels) -> list[dict]:
    """Label rows (with `record`, `dimension`, `category`) as failure records in order,
    each {dimension key: category path}."""
    records: dict[int, dict] = {}
    for label in labels:
        records.setdefault(label.record, {})[label.dimension.key] = label.category.path
    return [records[number] for number in sorted(records)]


def _aligned(gold: list[dict], mine: list[dict]) -> list[tuple[int, str, str, str]]:
    """(record number, dimension key, coder's category, gold category) for every unit of
    one gold item. Records are paired by content as the study's agreement pairs them
    (adjudication's align_records), so their order does not matter; a record or dimension
    one side lacks is MISSING on that side."""
    pairs = align_records(gold, mine)
    units = []
    sides = [(i, gold[i], mine[j]) for i, j in pairs]
    paired_gold, paired_mine = {i for i, _ in pairs}, {j for _, j in pairs}
    sides += [(i, record, {}) for i, record in enumerate(gold) if i not in paired_gold]
    extra = [record for j, record in enumerate(mine) if j not in paired_mine]
    sides += [(len(gold) + n, {}, record) for n, record in enumerate(extra)]
    for number, truth, given in sorted(sides, key=lambda side: side[0]):
        for key in sorted(set(truth) | set(given)):
            units.append((number, key, given.get(key, MISSING), truth.get(key, MISSING)))
    return units


def _answers(attempt: CalibrationTry) -> dict[int, list[dict]]:
    """The try's answers as failure records, by gold item id."""
    answers = attempt.answers.prefetch_related("labels__dimension", "labels__category")
    return {a.gold_id: _records(a.labels.all()) for a in answers}


def _gold_snapshot(attempt: CalibrationTry, project: Project) -> dict[str, dict]:
    """The gold items the try answered, as they are now: {gold id: rationale, records}.
    Kept with the scores, so that the feedback shows what the try was scored against."""
    return {
        str(gold.pk): {"rationale": gold.rationale, "records": _records(gold.labels.all())}
        for gold in gold_items(project).filter(answers__attempt=attempt)
    }


def _pairs(snapshot: dict, answers: dict) -> list[tuple[str, str, str]]:
    return [
        (key, mine, truth)
        for gold_id, gold in snapshot.items()
        for _, key, mine, truth in _aligned(gold["records"], answers[int(gold_id)])
    ]


# Kappa is a ratio of sums of shares: 4/5 exactly comes out as 0.7999999999999999.
KAPPA_TOLERANCE = 1e-9


def passes(score: Score, threshold: float) -> bool:
    """Whether `score` passes at `threshold`, a kappa exactly at it (up to floating-point
    rounding) included. Kappa is undefined when coder and gold used one category only:
    perfect agreement then passes, anything less does not."""
    if score.kappa is None:
        return score.agreement == 1.0
    return score.kappa >= threshold - KAPPA_TOLERANCE


def _finish(project: Project, membership: Membership, attempt: CalibrationTry) -> None:
    snapshot = _gold_snapshot(attempt, project)
    score = score_pairs(_pairs(snapshot, _answers(attempt)))
    passed = passes(score, project.calibration_threshold)
    attempt.kappa, attempt.passed, attempt.finished_at = score.kappa, passed, timezone.now()
    attempt.threshold, attempt.max_tries = project.calibration_threshold, project.calibration_tries
    attempt.scores = {"agreement": score.agreement, "dimensions": score.dimensions}
    attempt.scores[GOLD_KEPT] = snapshot
    attempt.save(
        update_fields=["kappa", "passed", "finished_at", "scores", "threshold", "max_tries"]
    )
    if passed:
        _set_state(project, membership, Membership.Calibration.PASSED, membership.user)
    elif attempt.number >= project.calibration_tries:
        _set_state(project, membership, Membership.Calibration.FAILED, membership.user)


def finished_tries(project: Project, membership: Membership):
    """The coder's scored tries, newest first: what they (and the lead) may read."""
    return (
        project_rows(CalibrationTry, project)
        .filter(membership=membership, finished_at__isnull=False)
        .order_by("-number")
    )


def feedback(project: Project, attempt: CalibrationTry) -> list[dict]:
    """A finished try's answers beside the gold labels and rationale. Only for a finished
    try, and only the gold items the try answered: a gold item added since stays hidden
    until the coder has labeled it in a try of their own."""
    if attempt.finished_at is None:
        raise CalibrationError("The try is not finished: the gold labels stay hidden until then.")
    answers = _answers(attempt)
    # The gold labels and rationale the try was scored against (a try scored before they
    # were kept reads the gold set as it is now).
    kept = attempt.scores.get(GOLD_KEPT) or _gold_snapshot(attempt, project)
    rows = []
    for gold in gold_items(project).filter(pk__in=list(answers)):
        truth = kept.get(str(gold.pk)) or {"rationale": gold.rationale, "records": []}
        units = _aligned(truth["records"], answers[gold.pk])
        rows.append(
            {
                "gold": gold,
                "item": gold.item,
                "rationale": truth["rationale"],
                "lines": [
                    {"record": number + 1, "dimension": key, "gold": truth, "mine": mine}
                    for number, key, mine, truth in units
                ],
            }
        )
    return rows


def summary(project: Project) -> dict:
    """The calibration figures for the methods section: coders, tries, kappa vs gold.
    `passed` counts the coders who passed a try; `admitted` those the lead let into the
    main queue without one; `pending` those still in calibration. Three queries."""
    state = Membership.Calibration
    passed_a_try = Exists(CalibrationTry.objects.filter(membership=OuterRef("pk"), passed=True))
    members = (
        project_rows(Membership, project)
        .exclude(calibration="")
        .aggregate(
            coders=Count("pk"),
            cleared=Count("pk", filter=Q(calibration=state.PASSED)),
            passed=Count("pk", filter=Q(passed_a_try, calibration=state.PASSED)),
            pending=Count("pk", filter=Q(calibration=state.PENDING)),
            failed=Count("pk", filter=Q(calibration=state.FAILED)),
        )
    )
    tries = list(
        project_rows(CalibrationTry, project)
        .filter(finished_at__isnull=False)
        .values_list("passed", "kappa", "threshold", "max_tries")
    )
    return {
        "gold_items": project_rows(GoldItem, project).count(),
        "coders": members["coders"],
        "passed": members["passed"],
        "admitted": members["cleared"] - members["passed"],
        "pending": members["pending"],
        "failed": members["failed"],
        "tries": len(tries),
        "threshold": project.calibration_threshold,
        "max_tries": project.calibration_tries,
        "passing_kappas": sorted(k for ok, k, _, _ in tries if ok and k is not None),
        # Passed with κ undefined (one category throughout, agreement complete): said apart.
        "passing_undefined": sum(1 for ok, k, _, _ in tries if ok and k is None),
        # The settings each scored try met, as (threshold, tries) -> tries scored under them
        # (None, None: scored before they were recorded), most used first.
        "settings_used": _settings_used(tries),
    }


def _settings_used(tries) -> list[dict]:
    counts = Counter((threshold, most) for _, _, threshold, most in tries)
    return [
        {"threshold": threshold, "max_tries": most, "tries": n}
        for (threshold, most), n in sorted(
            counts.items(), key=lambda entry: (-entry[1], str(entry[0]))
        )
    ]
