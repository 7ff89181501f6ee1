"""The calibration API (issue #17): the gold set and settings (leads and owners), a lead's
action on a coder, and the coder's own calibration (next gold item, answer, tries). Gold
labels reach a coder only in a finished try of their own."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from annotate.access import (
    MANAGERS,
    get_item_for_gold,
    get_member_for_manager,
    get_project_for_user,
)
from annotate.api.records import FailureRecordSerializer, read_failure_records
from annotate.records import parse_wire, to_wire

from . import calibration as service

Records = FailureRecordSerializer(many=True)


def _records_in(raw):
    """Records sent in the API's one record shape, checked as every endpoint checks them
    (annotate.api.records), as the service's lists of labels (dimension and category)."""
    return [
        [{"dimension": x.dimension, "category": x.category} for x in parse_wire(record)]
        for record in read_failure_records(raw)
    ]


def _gold_wire(gold) -> dict:
    return {
        "item": gold.item_id,
        "rationale": gold.rationale,
        "records": to_wire(gold.labels.select_related("dimension", "category")),
    }


def _try_wire(attempt) -> dict:
    return {
        "number": attempt.number,
        "kappa": attempt.kappa,
        "passed": attempt.passed,
        "finished_at": attempt.finished_at,
        "scores": {k: v for k, v in attempt.scores.items() if k != service.GOLD_KEPT},
    }


GoldIn = inline_serializer(
    "CalibrationGoldIn",
    {"item": serializers.IntegerField(), "records": Records, "rationale": serializers.CharField()},
)
SettingsIn = inline_serializer(
    "CalibrationSettingsIn",
    {"threshold": serializers.FloatField(), "tries": serializers.IntegerField()},
)


@extend_schema(
    request=GoldIn,
    responses={200: dict, 201: dict},
    description="The gold set with its labels and rationale and the settings "
    "(leads and owners); POST adds or replaces a gold item.",
)
@api_view(["GET", "POST"])
def gold(request, slug):
    project, _ = get_project_for_user(request.user, slug, roles=MANAGERS)
    if request.method == "POST":
        data = request.data if isinstance(request.data, dict) else {}
        item = get_item_for_gold(project, data.get("item"))
        rationale = data.get("rationale")
        if rationale is not None and not isinstance(rationale, str):
            raise service.CalibrationError("The rationale is text (a JSON string).")
        made = service.set_gold_item(
            project=project,
            item=item,
            records=_records_in(data.get("records")),
            rationale=rationale or "",
            actor=request.user,
        )
        return Response(_gold_wire(made), status=status.HTTP_201_CREATED)
    return Response(
        {
            "threshold": project.calibration_threshold,
            "tries": project.calibration_tries,
            "items": [_gold_wire(g) for g in service.gold_items(project)],
            "summary": service.summary(project),
        }
    )


@extend_schema(responses={204: None}, description="Take an item out of the gold set.")
@api_view(["DELETE"])
def gold_item(request, slug, item_id):
    project, _ = get_project_for_user(request.user, slug, roles=MANAGERS)
    item = get_item_for_gold(project, item_id)
    service.remove_gold_item(project=project, item=item, actor=request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    request=SettingsIn,
    responses={200: dict},
    description="Set the pass threshold (Cohen's kappa) and the number of tries.",
)
@api_view(["PUT"])
def settings(request, slug):
    project, _ = get_project_for_user(request.user, slug, roles=MANAGERS)
    data = request.data if isinstance(request.data, dict) else {}
    service.set_settings(
        project=project,
        threshold=data.get("threshold"),
        tries=data.get("tries"),
        actor=request.user,
    )
    return Response(
        {"threshold": project.calibration_threshold, "tries": project.calibration_tries}
    )


@extend_schema(
    request=inline_serializer("CalibrationMemberIn", {"action": serializers.CharField()}),
    responses={200: dict},
    description="A lead's action on an annotator: 'calibrate' (send through the gold set), "
    "'admit' or 'refuse' (after they failed out). The reply lists their tries.",
)
@api_view(["GET", "POST"])
def member(request, slug, membership_id):
    project, _ = get_project_for_user(request.user, slug, roles=MANAGERS)
    target = get_member_for_manager(project, membership_id)
    if request.method == "POST":
        action = request.data.get("action") if isinstance(request.data, dict) else None
        if action == "calibrate":
            service.put_in_calibration(project=project, membership=target, actor=request.user)
        elif action in ("admit", "refuse"):
            service.decide(
                project=project, membership=target, passed=action == "admit", actor=request.user
            )
        else:
            raise service.CalibrationError("The action is 'calibrate', 'admit' or 'refuse'.")
    tries = service.finished_tries(project, target)
    return Response({"state": target.calibration, "tries": [_try_wire(t) for t in tries]})


@extend_schema(
    request=inline_serializer(
        "CalibrationAnswerIn", {"gold": serializers.IntegerField(), "records": Records}
    ),
    responses={200: dict},
    description="The caller's own calibration: GET their state, their next gold item (its "
    "id and issue only, never the gold labels) and their finished tries with the gold "
    "labels and rationale; POST answers a gold item.",
)
@api_view(["GET", "POST"])
def mine(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    if request.method == "POST":
        data = request.data if isinstance(request.data, dict) else {}
        service.answer_gold(
            project=project,
            membership=membership,
            gold_id=data.get("gold"),
            records=_records_in(data.get("records")),
        )
        membership.refresh_from_db(fields=["calibration"])
    attempt, next_gold = service.next_gold(project, membership)
    finished = []
    for done in service.finished_tries(project, membership):
        rows = service.feedback(project, done)
        finished.append(
            {
                **_try_wire(done),
                "items": [
                    {"item": r["item"].pk, "rationale": r["rationale"], "lines": r["lines"]}
                    for r in rows
                ],
            }
        )
    issue = next_gold.item.issue if next_gold else None
    return Response(
        {
            "state": membership.calibration,
            "try": attempt.number if attempt else None,
            "next": {
                "gold": next_gold.pk,
                "item": next_gold.item_id,
                "issue": f"{issue.repository.full_name}#{issue.number}",
            }
            if next_gold
            else None,
            "tries": finished,
        }
    )
