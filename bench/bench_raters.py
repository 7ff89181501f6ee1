"""Benchmark: the built-in machine rater trains and rates 100,000 items (issue #18).

A project with the study's codebook and 100,000 synthetic issues (mining.synthetic: title,
body with a traceback, 0-4 comments; about 2 KB of text each), 80% of them settled with
their generating labels, one label in ten replaced by another category of its dimension
(disagreement a real dataset has). The measured figure is one whole run as the Celery
worker does it (runs.claim_rater_run + runs.run_rater): read every item's text, TF-IDF,
2-fold cross-fitting of a classifier per dimension and level, the cross-validated
accuracy stored, then 300,000 labels and 100,000 item rows written with COPY.

Goal: under 120 s at 100,000 items on this machine (2 cores, shared). The figure is a warm
worker's: scikit-learn is imported before the clock starts (a cold worker pays that once,
about 2 s on an idle machine).
Baselines, same run: the same rater at 10,000 items (how the time scales), and the
accuracy of the trivial rater that always answers the most common category (what the
cross-validated accuracy has to beat).

Runs in its own database, bench_raters (BENCH_RATERS_DB; created and dropped here);
BENCH_RATERS_SIZES="10000,100000" sets the sizes.
"""

import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _database import recreate_database, use_database, verdict  # noqa: E402

DB_NAME = os.environ.get("BENCH_RATERS_DB", "bench_raters")
SIZES = [int(n) for n in os.environ.get("BENCH_RATERS_SIZES", "10000,100000").split(",")]
GOAL_SECONDS = 120.0
SETTLED_SHARE = 0.8
NOISE = 0.1

BENCH_URL, ADMIN_URL = use_database(DB_NAME)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from annotate.bulk import copy_models  # noqa: E402
from annotate.models import (  # noqa: E402
    Category,
    FinalLabel,
    FinalRecordLabel,
    Item,
    Rater,
    RaterLabel,
    RaterRun,
)
from annotate.projects import services  # noqa: E402
from mining.models import Comment, Issue, ProjectRepository, Repository  # noqa: E402
from mining.synthetic import generate_issues  # noqa: E402


def build(size: int, owner):
    """A project of `size` items (see the module's docstring); returns it and the share of
    its settled labels that the most common category of each dimension holds."""
    project = services.create_project(name=f"Raters {size}", slug=f"raters-{size}", owner=owner)
    dims = {d.key: d for d in project.dimensions.all()}
    cats = {
        (c.dimension_id, c.path): c for c in Category.objects.filter(dimension__project=project)
    }
    leaves = {key: [c for (dim, _), c in cats.items() if dim == d.pk] for key, d in dims.items()}
    repo = Repository.objects.create(owner="bench", name=f"raters-{size}")
    ProjectRepository.objects.create(project=project, repository=repo, group="bench")
    rng = random.Random(size)
    generated = list(generate_issues("bench", f"raters-{size}", size, seed=size))
    issues = [
        Issue(
            repository=repo,
            number=g["number"],
            github_id=size * 10 + g["number"],
            title=g["title"],
            body=g["body"],
            state=g["state"],
        )
        for g in generated
    ]
    copy_models(Issue, issues)
    comments = [
        Comment(
            issue=issue,
            github_id=c["id"] + size * 10_000,
            body=c["body"],
            created_at=c["created_at"],
        )
        for issue, g in zip(issues, generated, strict=True)
        for c in g["_comments"]
    ]
    copy_models(Comment, comments)
    settled = [rng.random() < SETTLED_SHARE for _ in generated]
    items = [
        Item(
            project=project,
            issue=issue,
            position=n,
            state=Item.State.SETTLED if done else Item.State.OPEN,
        )
        for n, (issue, done) in enumerate(zip(issues, settled, strict=True))
    ]
    copy_models(Item, items)
    finals = [
        FinalLabel(item=item, provenance=FinalLabel.Provenance.IMPORTED)
        for item, done in zip(items, settled, strict=True)
        if done
    ]
    copy_models(FinalLabel, finals)
    by_item = {final.item_id: final for final in finals}
    labels, counts = [], {key: Counter() for key in dims}
    for item, g in zip(items, generated, strict=True):
        final = by_item.get(item.pk)
        if final is None:
            continue
        for key, path in g["_truth"].items():
            category = cats[(dims[key].pk, path)]
            if rng.random() < NOISE:
                category = rng.choice(leaves[key])
            counts[key][category.path] += 1
            labels.append(
                FinalRecordLabel(
                    final=final, item=item, record=0, dimension=dims[key], category=category
                )
            )
    copy_models(FinalRecordLabel, labels)
    trivial = {key: c.most_common(1)[0][1] / sum(c.values()) for key, c in counts.items()}
    return project, trivial


def rate(project) -> tuple[float, RaterRun]:
    """One whole built-in run, timed as the worker runs it (wall time; the worker's own
    CPU time is printed beside it, since a shared machine's load stretches the wall)."""
    from annotate.raters import runs

    rater = Rater.objects.create(project=project, kind=Rater.Kind.BUILTIN, name="bench")
    total = Item.objects.filter(project=project).count()
    run = RaterRun.objects.create(rater=rater, number=1, codebook_version=1, items_total=total)
    started, cpu = time.perf_counter(), time.process_time()
    assert runs.claim_rater_run(run_id=run.pk)
    run = runs.run_rater(run_id=run.pk)
    run.cpu_seconds = time.process_time() - cpu
    return time.perf_counter() - started, run


def main():
    import annotate.raters.learning  # noqa: F401 - a warm worker has scikit-learn loaded

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create(username="bench-owner")
    results = {}
    for size in SIZES:
        print(f"building {size:,} items ...", flush=True)
        project, trivial = build(size, owner)
        seconds, run = rate(project)
        assert run.status == "succeeded", run.error
        assert RaterLabel.objects.filter(run=run).count() == 3 * size
        results[size] = (seconds, run, trivial)
        print(
            f"  {size:>7,} items: train + rate {seconds:6.1f} s  ({run.items_done:,} items, "
            f"{run.labels_written:,} labels; worker CPU {run.cpu_seconds:.1f} s; "
            f"load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        for key, levels in run.training.items():
            deepest = levels[max(levels, key=int)]
            print(
                f"           {key:<11} cross-validated accuracy (level {max(levels, key=int)}) "
                f"{deepest['accuracy']:.3f}  vs trivial rater {trivial[key]:.3f}"
            )
    print()
    largest = max(results)
    seconds = results[largest][0]
    print(f"figure:   train + rate {largest:,} items in {seconds:.1f} s")
    print(f"goal:     under {GOAL_SECONDS:.0f} s -> {verdict(seconds < GOAL_SECONDS)}")
    smallest = min(results)
    if smallest != largest:
        small = results[smallest][0]
        print(
            f"baseline: {smallest:,} items in {small:.1f} s (x{largest / smallest:.0f} the "
            f"items took x{seconds / small:.1f} the time)"
        )


if __name__ == "__main__":
    try:
        main()
    finally:
        from django.db import connections

        connections.close_all()
        recreate_database(DB_NAME, ADMIN_URL, drop_only=True)
