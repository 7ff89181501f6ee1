"""A/B against an earlier revision: the same pages served by the code of a git revision
(extracted to a temporary folder, run in a child process on the same database) and by this
tree, interleaved request by request with the same repetitions, so the host's load falls on
both sides alike. Both sides time a warm request (each page requested once before)."""

import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import os, sys, time
sys.path.insert(0, os.getcwd())
import django
django.setup()
import logging
logging.getLogger("axes").setLevel(logging.WARNING)
from django.contrib.auth import get_user_model
from django.test import Client
clients = {}
for line in sys.stdin:
    if line.strip() == "clear":  # empty the caches, as after a data change
        from django.core.cache import caches
        for alias in ("default", "analysis"):
            caches[alias].clear()
        print("200 0", flush=True)
        continue
    username, url = line.split()
    if username not in clients:
        clients[username] = Client()
        clients[username].force_login(get_user_model().objects.get(username=username))
    t0 = time.perf_counter()
    reply = clients[username].get(url)
    ms = (time.perf_counter() - t0) * 1000
    print(f"{reply.status_code} {ms:.3f}", flush=True)
"""


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Revision:
    """The code of a git revision serving requests in a child process (a context manager):
    `get(username, url)` returns the milliseconds one request took in the child;
    `clear()` empties the caches there."""

    def __init__(self, revision: str):
        self.revision = revision

    def __enter__(self):
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", self.revision], check=True, capture_output=True
        ).stdout
        self.folder = tempfile.TemporaryDirectory()
        tarfile.open(fileobj=BytesIO(archive)).extractall(self.folder.name, filter="data")
        self.child = subprocess.Popen(
            [sys.executable, "-c", CHILD], cwd=self.folder.name, env=os.environ.copy(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        return self

    def _ask(self, line: str) -> float:
        self.child.stdin.write(line + "\n")
        self.child.stdin.flush()
        status, ms = self.child.stdout.readline().split()
        assert status in ("200", "302"), (line, status)
        return float(ms)

    def get(self, username: str, url: str) -> float:
        return self._ask(f"{username} {url}")

    def clear(self) -> None:
        self._ask("clear")

    def __exit__(self, *exc):
        self.child.stdin.close()
        self.child.wait(timeout=60)
        self.folder.cleanup()


def compare(revision: str, rows, reps: int, goal_ms: float) -> None:
    """Time each (name, url, username) of `rows` `reps` times on both sides, alternating,
    and print p50/p95 of each beside the goal (p95 < goal_ms)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        tarfile.open(fileobj=BytesIO(archive)).extractall(folder, filter="data")
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD], cwd=folder, env=os.environ.copy(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        clients = {}

        def old(username, url) -> float:
            child.stdin.write(f"{username} {url}\n")
            child.stdin.flush()
            status, ms = child.stdout.readline().split()
            assert status in ("200", "302"), (url, status)
            return float(ms)

        def new(username, url) -> float:
            if username not in clients:
                clients[username] = Client()
                clients[username].force_login(get_user_model().objects.get(username=username))
            t0 = time.perf_counter()
            reply = clients[username].get(url)
            assert reply.status_code in (200, 302), (url, reply.status_code)
            return (time.perf_counter() - t0) * 1000

        print(f"\nA/B, warm, interleaved: {revision} (before) against this tree (after), "
              f"{reps} requests each; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        print(f"{'page':42} {'before p50/p95':>16} {'after p50/p95':>16}  "
              f"goal: p95 < {goal_ms:.0f} ms")  # fmt: skip
        try:
            for name, url, username in rows:
                old(username, url), new(username, url)  # warm both: code, templates, cache
                before, after = [], []
                for _ in range(reps):
                    before.append(old(username, url))
                    after.append(new(username, url))
                cells = [f"{statistics.median(v):7.0f}/{percentile(v, 0.95):<6.0f}"
                         for v in (before, after)]  # fmt: skip
                met = percentile(after, 0.95) < goal_ms
                print(f"{name:42} {cells[0]:>16} {cells[1]:>16}  {'ok' if met else 'MISSED'}")
        finally:
            child.stdin.close()
            child.wait(timeout=60)
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
