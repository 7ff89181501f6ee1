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
