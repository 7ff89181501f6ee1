"""Benchmark: import 10,000 and 100,000 failure records (olf, 10 files: about 34 MB at
100,000) with `manage.py import_dataset`, for --labels none, final and annotator:X, each in
a fresh project over repositories nobody has imported before; each run is a child process
whose peak RSS is read from the kernel (wait4). The Celery import job calls the same
importer, so these are the job's figures too.

Goals: 100,000 records in under 60 s with peak RSS under 300 MB; linear: 100,000 within 12×
the 10,000-record time, for every --labels mode.
Baseline (one run, same files): the importer as it was before issue #12 (the whole files in
memory, one statement over every item): its commit (BASELINE_COMMIT) checked out in a git
worktree with a database of its own, and run for
--labels final at both sizes, and for annotator:X at 4,000 records only (it took 161 s at
10,000). BENCH_IMPORT_BASELINE=0 skips it; BENCH_IMPORT_SIZES="10000,100000" sets sizes.

Runs in its own database, bench_import (BENCH_IMPORT_DB; created and dropped here).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _database import database_urls, recreate_database, use_database, verdict  # noqa: E402

DB_NAME = os.environ.get("BENCH_IMPORT_DB", "bench_import")
SIZES = [int(n) for n in os.environ.get("BENCH_IMPORT_SIZES", "10000,100000").split(",")]
FILES = 10
MODES = ["none", "final", "annotator:bench_annotator"]
BASELINE = os.environ.get("BENCH_IMPORT_BASELINE", "1") != "0"
BASELINE_COMMIT = "0149bbc"  # the branch point of issue #12's import work

BENCH_URL, ADMIN_URL = use_database(DB_NAME)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from annotate.models import Category, Role  # noqa: E402
from annotate.projects import services  # noqa: E402

CPU: dict = {}


def leaf_paths(project) -> dict[str, list[str]]:
    paths = {}
    for dimension in project.dimensions.all():
        cats = list(Category.objects.filter(dimension=dimension))
        parents = {c.parent_id for c in cats}
        paths[dimension.key] = [c.path.replace(" > ", " - ") for c in cats if c.pk not in parents]
    return paths


def write_files(folder: Path, count: int, prefix: str, paths) -> int:
    """`count` records over 20 repositories, one in 50 a second record of its issue."""
    per_file = -(-count // FILES)
    number, written = 0, 0
    for index in range(FILES):
        records = []
        for _ in range(min(per_file, count - written)):
            if written % 50 != 1:
                number += 1
            repo = number % 20
            records.append(
                {
                    "number": written + 1,
                    "link": f"https://github.com/{prefix}-org/repo{repo}/issues/{number}",
                    "status": "closed" if number % 3 else "open",
                    "SYMPTOM": paths["symptom"][number % len(paths["symptom"])],
                    "ROOT CAUSE": paths["root_cause"][number % len(paths["root_cause"])],
                    "STAGE": paths["stage"][number % len(paths["stage"])],
                    "model": f"Model-{repo}-{number % 7}B-Instruct",
                    "architecture": "Dense" if number % 2 else "Mixture of Experts",
                }
            )
            written += 1
        (folder / f"part{index:02}.json").write_text(json.dumps(records, indent=2))
    return sum(p.stat().st_size for p in folder.iterdir())


def run_child(args: list[str], *, cwd=ROOT, url=None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, last output line) of one child process; its CPU seconds
    are kept in CPU (the host is shared: wall time moves with the load, CPU time less)."""
    env = {
        **os.environ,
        "DATABASE_URL": url or BENCH_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    started = time.perf_counter()
    child = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.exit(f"child failed ({status}): {' '.join(args)}\n{out}")
    CPU[tuple(args)] = usage.ru_utime + usage.ru_stime
    return elapsed, usage.ru_maxrss / 1024, (out.strip().splitlines() or [""])[-1]


def fresh_project(slug: str):
    User = get_user_model()
    for name in ("bench_owner", "bench_annotator"):
        User.objects.get_or_create(username=name)
    project = services.get_or_create_project(slug=slug, owner_username="bench_owner")
    services.add_member(project=project, username="bench_annotator", role=Role.ANNOTATOR)
    return project


OLD_SETUP = """
from django.contrib.auth import get_user_model
from annotate import services
from annotate.models import Role
for name in ("bench_owner", "bench_annotator"):
    get_user_model().objects.get_or_create(username=name)
project = services.get_or_create_project(slug=SLUG, owner_username="bench_owner")
services.add_member(project=project, username="bench_annotator", role=Role.ANNOTATOR)
"""


def run_baseline(tmp: Path, paths, baseline: dict) -> None:
    """The importer as it was before issue #12, whole: its commit checked out in a worktree
    of its own, migrated into a database of its own, run by its own `manage.py`."""
    old_root = tmp / "before"
    name = DB_NAME + "_before"
    url = database_urls(name)[0]
    recreate_database(name, ADMIN_URL)
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(old_root), BASELINE_COMMIT],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    try:
        run_child([sys.executable, "manage.py", "migrate", "-v0"], cwd=old_root, url=url)
        runs = [(size, "final") for size in SIZES] + [(4000, "annotator:bench_annotator")]
        for size, mode in runs:
            slug = f"old{size}-{mode.split(':')[0]}"
            folder = tmp / slug
            folder.mkdir()
            write_files(folder, size, slug, paths)
            setup = OLD_SETUP.replace("SLUG", repr(slug))
            run_child([sys.executable, "manage.py", "shell", "-c", setup], cwd=old_root, url=url)
            command = [sys.executable, "manage.py", "import_dataset", str(folder),
                       "--project", slug, "--labels", mode]  # fmt: skip
            seconds, peak, _ = run_child(command, cwd=old_root, url=url)
            baseline[(size, mode)] = (seconds, peak)
            print(
                f"baseline (before #12) {size:>7,} records --labels {mode:<26} "
                f"{seconds:7.1f} s (importer CPU {CPU[tuple(command)]:5.1f} s, load "
                f"{os.getloadavg()[0]:.1f})  peak RSS {peak:5.0f} MB",
                flush=True,
            )
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(old_root)], cwd=ROOT, capture_output=True
        )
        recreate_database(name, ADMIN_URL, drop_only=True)


def main():
    call_command("migrate", verbosity=0)
    paths = leaf_paths(fresh_project("bench-paths"))
    results = {}
    baseline = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            for mode in MODES:
                key = (size, mode)
                slug = f"b{size}-{mode.split(':')[0]}"
                folder = Path(tmp) / slug
                folder.mkdir()
                megabytes = write_files(folder, size, slug, paths) / 1024 / 1024
                fresh_project(slug)
                command = [sys.executable, "manage.py", "import_dataset", str(folder),
                           "--project", slug, "--labels", mode]  # fmt: skip
                seconds, peak, line = run_child(command)
                results[key] = (seconds, peak)
                print(
                    f"{size:>7,} records ({megabytes:.1f} MB) --labels {mode:<26} "
                    f"{seconds:7.1f} s (importer CPU {CPU[tuple(command)]:5.1f} s, load "
                    f"{os.getloadavg()[0]:.1f})  peak RSS {peak:5.0f} MB   {line[:50]}",
                    flush=True,
                )
        if BASELINE:
            run_baseline(Path(tmp), paths, baseline)

    print()
    big, small = max(SIZES), min(SIZES)
    for mode in MODES:
        seconds, peak = results[(big, mode)]
        ratio = seconds / results[(small, mode)][0] if big != small else 1.0
        print(
            f"--labels {mode}: {big:,} records {seconds:.1f} s (goal < 60 s: "
            f"{verdict(seconds < 60)}), peak RSS {peak:.0f} MB (goal < 300 MB: "
            f"{verdict(peak < 300)}), {ratio:.1f}x the {small:,}-record time for "
            f"{big // small}x the records (goal <= 12x: {verdict(ratio <= 12)})"
        )
    for (size, mode), (seconds, peak) in baseline.items():
        now = results.get((size, mode))
        versus = f"; now {now[0]:.1f} s, {now[1]:.0f} MB" if now else ""
        print(f"baseline --labels {mode} at {size:,}: {seconds:.1f} s, {peak:.0f} MB{versus}")


try:
    main()
finally:
    django.db.connections.close_all()
    recreate_database(DB_NAME, ADMIN_URL, drop_only=True)
