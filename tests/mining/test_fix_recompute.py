"""The fix statistics of a crawled world, recomputed here independently (red-team review of
issue #20): `time_to_fix` of the export from the emulator's own pull requests, the binned
`time_to_fix` and `fixed` distributions from the exported values, with numpy."""

import json
from collections import Counter
from datetime import datetime

import numpy as np

from analysis.distributions import build_crosstab
from analysis.specs import Source, parse_spec
from annotate.models import Item
from dataset.exporting import stream_export
from mining import jobs
from mining.models import Issue, MiningJob
from tests.builders import label_both, record
from tests.factories import ItemFactory

OWNER, NAME = "meta-llama", "llama3"
EDGES = np.array([1, 7, 28, 180])
LABELS = ["< 1 day", "1–7 days", "1–4 weeks", "1–6 months", "> 6 months"]


def test_time_to_fix_and_its_bins_match_an_independent_recount(project, cast, emulator, token):
    emulator.add_repository(OWNER, NAME, issues=120, comments=0)
    repository = jobs.add_repository(project=project, full_name=f"{OWNER}/{NAME}")
    job = jobs.start_mining_job(
        project=project, repositories=[repository], api_url=emulator.url, dispatch=False, fixes=True
    )
    assert jobs.run_job_sync(job=job).status == MiningJob.Status.DONE
    issues = Issue.objects.filter(repository=repository, is_pull_request=False)
    have = set(Item.objects.filter(project=project).values_list("issue_id", flat=True))
    for issue in issues:
        if issue.pk not in have:
            ItemFactory(project=project, issue=issue)
    for item in Item.objects.filter(project=project):
        label_both(item, cast, [record()], [record()])

    # Truth from the emulator's world, not from the stored rows.
    world = emulator.repo(OWNER, NAME)
    expected = {}
    for number, raw in world.issues.items():
        if "pull_request" in raw:
            continue
        merges = [p["merged_at"] for p in world.fixes.get(number, {}).get("closing", [])]
        merges = [m for m in merges if m is not None]
        created = raw["created_at"]
        created = created if isinstance(created, datetime) else datetime.fromisoformat(created)
        expected[number] = (
            round((min(merges) - created).total_seconds() / 86400, 3) if merges else None
        )

    rows = [json.loads(x) for x in "".join(stream_export(project, "jsonl", "all")).splitlines()]
    got = {row["issue"]: row for row in rows}
    assert {n: got[n]["time_to_fix"] for n in expected} == expected
    assert {n: got[n]["fixed"] for n in expected} == {n: v is not None for n, v in expected.items()}

    values = np.array([v for v in expected.values() if v is not None])
    bins = Counter(LABELS[i] for i in np.searchsorted(EDGES, values, side="right"))
    bins["(none)"] = sum(v is None for v in expected.values())
    table = build_crosstab(
        project=project,
        rows=parse_spec("time_to_fix"),
        cols=parse_spec("state"),
        source=Source("final"),
    )
    counted = {r: sum(c) for r, c in zip(table.rows, table.counts, strict=True) if sum(c)}
    print(dict(bins), counted, len(values), float(np.median(values)) if len(values) else None)
    assert counted == {k: v for k, v in bins.items() if v}
