"""Schemathesis over the whole API, driven through its Python API (its pytest plugin does
not run on pytest 9): every operation, positive and negative cases, once with the world's
real objects in the path and once with generated path values. Failures are collected, not
raised, so one run reports every finding with its request."""

import re
from collections import Counter
from dataclasses import dataclass, field

import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

# Every reply: never a 5xx. Positive cases: the reply's content type and body also match the
# schema (statuses the schema does not list, e.g. 404 for generated ids, are allowed).
POSITIVE_CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error]
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        self.requests += other.requests
        self.statuses.update(other.statuses)
        self.failures.extend(other.failures)


class keep_connection:
    """Keep the caller's database connection (and its transaction, in tests) open across
    the in-process WSGI requests, as Django's test client does."""

    def __enter__(self):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)

    def __exit__(self, *exc):
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def load_schema():
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def _strategy(operation, mode, paths):
    names = _PARAM.findall(operation.path)
    real = {name: paths[name] for name in names if name in paths}
    generated = {"slug": paths["slug"]} if "slug" in names else None
    choices = []
    for fixed in (real, generated):
        try:
            choices.append(operation.as_strategy(mode, path_parameters=fixed or None))
        except Exception:  # noqa: BLE001 - no negative variant of a parameterless operation
            continue
    return st.one_of(choices) if choices else None


def fuzz_operation(operation, *, token, paths, examples, seed=None) -> Tally:
    """Run `examples` generated requests per generation mode against one operation."""
    tally = Tally()
    headers = {"Authorization": f"Token {token}"}
    for mode, checks in (
        (GenerationMode.POSITIVE, POSITIVE_CHECKS),
        (GenerationMode.NEGATIVE, NEGATIVE_CHECKS),
    ):
        strategy = _strategy(operation, mode, paths)
        if strategy is None:
            continue

        @given(case=strategy)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=seed is None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            response = case.call(headers=headers)
            tally.requests += 1
            tally.statuses[response.status_code] += 1
            # A generated id the URL router cannot match (e.g. -5 for <int:id>) gets
            # Django's plain 404 page, never the view: only the status is checked then.
            routed = _routed(case.formatted_path)
            try:
                case.validate_response(
                    response, checks=checks if routed else NEGATIVE_CHECKS, headers=headers
                )
            except (Exception, BaseExceptionGroup) as error:  # every finding is collected
                where = f"{case.method} {case.formatted_path} [{mode.value}]"
                summary = str(error).strip().splitlines()
                tally.failures.append(f"{where} -> {response.status_code}: {summary[:12]}")

        if seed is not None:
            run = _seeded(run, seed)
        try:
            run()
        except Unsatisfiable:
            # An operation without inputs to break (e.g. a GET with no parameters) has no
            # negative cases.
            continue
    return tally


def _routed(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _seeded(test, seed):
    from hypothesis import seed as hypothesis_seed

    return hypothesis_seed(seed)(test)


def fuzz_api(schema, *, token, paths, examples, seed=None) -> Tally:
    """Every operation of `schema`, as the holder of `token`."""
    tally = Tally()
    for operation in operations(schema):
        tally.add(fuzz_operation(operation, token=token, paths=paths, examples=examples, seed=seed))
    return tally


# --- crafted input (issue #12): classes the schema-driven generator does not reach ---------


def cursor_list_routes() -> list[str]:
    """Every URL pattern whose view paginates with a cursor, from the URL configuration."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework.pagination import CursorPagination

    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "view_class", None)
                paginator = getattr(view, "pagination_class", None)
                if paginator and issubclass(paginator, CursorPagination) and hasattr(view, "list"):
                    found.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "/")
    return found


def _fill(route: str, paths: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(paths[m.group(1)]), route)


def _forged_cursor(rng) -> str:
    import base64

    position = rng.choice(
        ["abc", "9" * rng.randint(19, 60), "1\x00", "-1", "1e5", "", " 1", "\u00b2", "0x10"]
    )
    parts = [f"p={position}"]
    if rng.random() < 0.5:
        parts.append(f"o={rng.choice(['9' * 30, '-5', 'x'])}")
    if rng.random() < 0.3:
        parts.append("r=1")
    raw = "&".join(parts).encode()
    return rng.choice([base64.b64encode(raw).decode(), raw.decode(errors="replace"), "%%%"])


def crafted_probes(*, tokens: dict, paths: dict, count: int, seed: int = 0) -> Tally:
    """`count` requests of each crafted class, as the owner (lists and mutations) and the
    lead (the conflict queue): forged cursors on every cursor list, huge offsets, limits,
    page sizes and page numbers, JSON integers past Python's 4,300 digits in every mutation
    body, and import files with cells past the csv field limit or such integers (their jobs
    run in-process). Every reply must be a 4xx or a 2xx; a job must fail with a message."""
    import random

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from annotate.models import ImportJob
    from dataset.tasks import run_import_task

    rng = random.Random(seed)
    tally = Tally()
    owner = {"HTTP_AUTHORIZATION": f"Token {tokens['owner']}"}
    lead = {"HTTP_AUTHORIZATION": f"Token {tokens['lead']}"}
    client = Client(raise_request_exception=False, HTTP_HOST="localhost")
    slug = paths["slug"]

    def record(what, response):
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.failures.append(f"{what} -> {response.status_code}")

    routes = [_fill(route, paths) for route in cursor_list_routes()]
    huge = lambda: rng.choice(["9" * rng.randint(20, 5000), str(2**63), str(2**63 - 1)])  # noqa: E731
    posts = [
        f"items/{paths['item_id']}/annotations/",
        f"items/{paths['item_id']}/adjudication/",
        f"items/{paths['item_id']}/skip/",
        "members/",
        "releases/",
        "repositories/",
        "jobs/",
    ]
    for _ in range(count):
        route = rng.choice(routes)
        record(
            f"GET {route} forged cursor",
            client.get(route, {"cursor": _forged_cursor(rng)}, **owner),
        )
        record("GET list page_size", client.get(rng.choice(routes), {"page_size": huge()}, **owner))
        name = rng.choice(["offset", "limit"])
        record(
            f"GET conflicts {name}",
            client.get(f"/api/projects/{slug}/conflicts/", {name: huge()}, **lead),
        )
        path = f"/api/projects/{slug}/{rng.choice(posts)}"
        key = rng.choice(
            [
                "records",
                "confidence",
                "note",
                "reason",
                "username",
                "title",
                "full_name",
                "repositories",
            ]
        )
        body = f'{{"{key}": {"9" * rng.randint(4301, 20000)}}}'
        record(
            f"POST {path} huge integer",
            client.post(path, body, content_type="application/json", **owner),
        )
    for index in range(max(1, count // 10)):
        if rng.random() < 0.5:
            name, fmt = "cells.csv", "csv"
            data = (
                "link,status,model\nhttps://github.com/a/b/issues/1,open,"
                + "x" * rng.randint(131_073, 400_000)
            ).encode()
        else:
            name, fmt = "digits.json", "olf"
            digits = "9" * rng.randint(4301, 50_000)
            data = f'[{{"link": "https://github.com/a/b/issues/1", "number": {digits}}}]'.encode()
        upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
        response = client.post(
            f"/api/projects/{slug}/import/", {"files": [upload], "format": fmt}, **owner
        )
        record(f"POST import {name}", response)
        if response.status_code == 202:
            run_import_task(job_id=response.json()["id"])
            job = ImportJob.objects.get(pk=response.json()["id"])
            if job.status != "failed" or "Nothing imported" not in job.error:
                tally.failures.append(f"import {name} #{index}: job {job.status} {job.error[:80]}")
    return tally


def concurrent_duplicate_creates(*, tokens: dict, paths: dict, senders: int = 6) -> Tally:
    """The same create sent by `senders` threads at once (each with its own connection, so
    the data must be committed: the bench, or a transactional test): an import, a release
    version and a project slug. Every reply a 2xx or 4xx, exactly one 2xx per create. Jobs
    the import queued are left queued (nothing runs them here)."""
    import threading

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client

    from annotate.models import ImportJob

    ImportJob.objects.filter(project__slug=paths["slug"], status__in=["queued", "running"]).update(
        status="failed", error="closed by the fuzz harness"
    )
    owner = {"HTTP_AUTHORIZATION": f"Token {tokens['owner']}"}
    slug = paths["slug"]
    record = b'[{"link": "https://github.com/a/b/issues/1", "status": "open"}]'
    creates = {
        "import": lambda: Client(raise_request_exception=False, HTTP_HOST="localhost").post(
            f"/api/projects/{slug}/import/",
            {"files": [SimpleUploadedFile("same.json", record)], "labels": "none"},
            **owner,
        ),
        "release": lambda: Client(raise_request_exception=False, HTTP_HOST="localhost").post(
            f"/api/projects/{slug}/releases/",
            {"version": "77.0", "title": "same"},
            content_type="application/json",
            **owner,
        ),
        "project": lambda: Client(raise_request_exception=False, HTTP_HOST="localhost").post(
            "/api/projects/",
            {"name": "Same", "slug": "same-slug-at-once"},
            content_type="application/json",
            **owner,
        ),
    }
    tally = Tally()
    for what, send in creates.items():
        statuses = []
        barrier = threading.Barrier(senders)

        def run(send=send, statuses=statuses, barrier=barrier):
            barrier.wait()
            try:
                statuses.append(send().status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tally.requests += len(statuses)
        tally.statuses.update(statuses)
        wins = [s for s in statuses if s < 300]
        if len(wins) != 1 or any(s >= 500 for s in statuses):
            tally.failures.append(f"{senders} x {what} at once -> {sorted(statuses)}")
    return tally
