"""Processes and clients for the reliability tests and the bench scripts: gunicorn, a
Celery worker, a private redis-server, and annotator clients that label over HTTP until
the queue is empty. Django-free, so that bench/ can use it before django.setup()."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# A database error that surfaced as a deadlock or a serialization failure.
DEADLOCK_MARKERS = ("deadlock detected", "could not serialize access")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float = 60.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def stop(process: subprocess.Popen | None, timeout: float = 20.0) -> None:
    """SIGTERM, then SIGKILL if the process does not leave in time."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_gunicorn(*, database_url: str, log: Path, workers: int = 4, **env) -> tuple:
    """gunicorn with `workers` sync workers on a free port; returns (process, base URL)."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    command = [str(BIN / "gunicorn"), "config.wsgi", "-w", str(workers)]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "60"]
    command += ["--preload"]  # import the app once, then fork: workers start at once
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"

    def answering():
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            requests.get(f"{base}/accounts/login/", timeout=5)
            return True
        except requests.RequestException:
            return False

    if not wait_for(answering, timeout=120, every=0.2):
        stop(process)
        raise RuntimeError("gunicorn did not answer within 120 s")
    return process, base


def start_worker(*, database_url: str, redis_url: str, token: str, log: Path, name: str):
    """A solo-pool Celery worker process (the production path) on `redis_url`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GITHUB_TOKEN": token,
        "GITHUB_TIMEOUT": os.environ.get("GITHUB_TIMEOUT", "2"),
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    command += ["-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def start_redis(port: int, log: Path) -> subprocess.Popen:
    """A private redis-server without persistence (a restart loses everything in it)."""
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(log.parent)]
    process = subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT)

    def answering():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    if not wait_for(answering, timeout=20):
        stop(process)
        raise RuntimeError(f"redis-server did not start on {port}")
    return process


PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"), default=None, key=lambda p: int(p.parent.name)
)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port, from the machine's binaries, that a
    test may stop and restart (the shared cluster never is). fsync off: it holds nothing
    worth keeping. Run as the `postgres` OS user when we are root (initdb refuses root).
    Use as a context manager: the cluster is stopped and its directory removed on exit,
    failure included."""

    def __init__(self):
        if PG_BIN is None:
            raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="faultline-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{command} failed: {done.stderr[-2000:]}")

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", *args)

    def start(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres", group="postgres")
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        settings = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": 200,
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._pg_ctl("start")
        return self

    def restart(self, down_seconds: float = 0.0) -> None:
        """A real restart: fast shutdown (every session terminated), `down_seconds` with no
        server (connections refused), then start."""
        self._pg_ctl("stop", "-m", "fast")
        time.sleep(down_seconds)
        self._pg_ctl("start")

    def copy_database(self, source_url: str, name: str) -> str:
        """CREATE DATABASE `name` here with `source_url`'s schema and rows; returns its URL."""
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), name)
        dump = subprocess.Popen(
            [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", source_url],
            stdout=subprocess.PIPE,
        )
        load = subprocess.run(
            [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url(name)],
            stdin=dump.stdout, capture_output=True, text=True,
        )  # fmt: skip
        dump.stdout.close()
        if dump.wait() or load.returncode:
            raise RuntimeError(f"copying {source_url} failed: {load.stderr[-2000:]}")
        return self.url(name)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._pg_ctl("stop", "-m", "immediate")
            except RuntimeError:
                pass  # already down: the directory goes anyway
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        try:
            return self.start()
        except BaseException:
            self.destroy()
            raise

    def __exit__(self, *exc) -> None:
        self.destroy()


def deadlocks_in(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(m in line for m in DEADLOCK_MARKERS)]


# ----- annotator clients ------------------------------------------------------------------
@dataclass
class Tally:
    """What every client saw: statuses per endpoint, latencies, errors, labeled pairs."""

    statuses: Counter = field(default_factory=Counter)
    latencies: dict = field(default_factory=lambda: {"next": [], "submit": [], "mine": []})
    errors: list = field(default_factory=list)
    labeled: list = field(default_factory=list)  # (token, item id) of 200 submissions
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, endpoint: str, status, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.statuses[(endpoint, status)] += 1
            self.latencies[endpoint].append(seconds)
            if detail:
                self.errors.append((endpoint, status, detail[:300]))

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def count(self, predicate) -> int:
        return sum(n for (_, status), n in self.statuses.items() if predicate(status))


def body_for(token: str, item_id: int, bodies: list[dict]) -> dict:
    """A deterministic choice of label body per (annotator, item): some pairs disagree."""
    digest = hashlib.sha256(f"{token}:{item_id}".encode()).digest()
    return bodies[digest[0] % len(bodies)]


def annotate_until_empty(
    *,
    base: str,
    slug: str,
    token: str,
    bodies: list[dict],
    tally: Tally,
    start: threading.Barrier | None = None,
    retry_statuses: frozenset = frozenset(),
    max_rounds: int = 100_000,
    timeout: float = 30.0,
) -> None:
    """One annotator: next, then submit, until the queue answers 204.

    A reply in `retry_statuses` (or a connection error, when `retry_statuses` is given) is
    retried after a short pause: a client that keeps going through an outage."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    if start is not None:
        start.wait()
    for _ in range(max_rounds):
        response = _post(
            session,
            f"{base}/api/projects/{slug}/queue/next/",
            None,
            "next",
            tally,
            retry_statuses,
            timeout,
        )
        if response is None or response.status_code == 204:
            return
        if response.status_code != 200:
            if response.status_code in retry_statuses:
                time.sleep(0.05)
                continue
            return
        item_id = response.json()["id"]
        url = f"{base}/api/projects/{slug}/items/{item_id}/annotations/"
        body = body_for(token, item_id, bodies)
        retried = False
        while True:
            response = _post(session, url, body, "submit", tally, retry_statuses, timeout)
            if response is None:
                return
            saved = response.status_code == 200
            if response.status_code == 409 and retried:
                # The first attempt was saved before its reply was lost, and the item has
                # closed since: the caller's own annotation says so.
                saved = _own_annotation_saved(session, url + "mine/", tally, retry_statuses)
            if saved:
                with tally.lock:
                    tally.labeled.append((token, item_id))
                break
            if response.status_code not in retry_statuses:
                break
            retried = True
            time.sleep(0.05)


def _own_annotation_saved(session, url, tally, retry_statuses) -> bool:
    while True:
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        tally.note("mine", response.status_code, time.perf_counter() - started)
        if response.status_code not in retry_statuses:
            return response.status_code == 200
        time.sleep(0.05)


def _post(session, url, body, endpoint, tally, retry_statuses, timeout):
    for _ in range(200):
        started = time.perf_counter()
        try:
            response = session.post(url, json=body, timeout=timeout)
        except requests.RequestException as error:
            tally.note(endpoint, type(error).__name__, time.perf_counter() - started, str(error))
            if not retry_statuses:
                return None
            time.sleep(0.1)
            continue
        elapsed = time.perf_counter() - started
        detail = response.text if response.status_code >= 400 else ""
        tally.note(endpoint, response.status_code, elapsed, detail)
        return response
    return None


def run_clients(count: int, target, **kwargs) -> float:
    """Run `count` clients at once (each gets its own token); returns the seconds taken."""
    tokens = kwargs.pop("tokens")
    barrier = threading.Barrier(count + 1)
    threads = [
        threading.Thread(target=target, kwargs={**kwargs, "token": tokens[n], "start": barrier})
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def unclear_failures(tally: Tally) -> list:
    """Replies of a run through database faults that were not a clear outcome: anything but
    success, 204, a 503 naming the database, or a 409 met by a retried submission whose
    first attempt was saved (the client then finds its own annotation: one `mine` 200 per
    such 409)."""
    unclear = [e for e in tally.errors if e[1] not in (409, 503)]
    unclear += [
        e
        for e in tally.errors
        if e[1] in (409, 503)
        and not any(word in e[2] for word in ("database", "can no longer change", "frozen"))
    ]
    unclear += [
        (key, n) for key, n in tally.statuses.items() if key[0] != "submit" and key[1] == 409
    ]
    if tally.statuses[("mine", 200)] != tally.statuses[("submit", 409)]:
        unclear.append(("409 without the caller's annotation", tally.statuses[("submit", 409)]))
    return unclear


def unserved(base: str, slug: str, tokens: list[str]) -> list:
    """Clients that are not served right now (after a fault: did the app recover?)."""
    failures = []
    for token in tokens:
        reply = requests.get(
            f"{base}/api/projects/{slug}/progress/",
            headers={"Authorization": f"Token {token}"},
            timeout=30,
        )
        if reply.status_code != 200:
            failures.append((reply.status_code, reply.text[:300]))
    return failures


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency_line(name: str, samples: list[float]) -> str:
    median = statistics.median(samples) if samples else 0.0
    return (
        f"{name:8} {len(samples):7d} requests  median {median * 1000:7.1f} ms  "
        f"p95 {percentile(samples, 0.95) * 1000:7.1f} ms  "
        f"p99 {percentile(samples, 0.99) * 1000:7.1f} ms  max {max(samples or [0]) * 1000:7.1f} ms"
    )
