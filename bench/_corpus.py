"""The large-project corpus that bench_browse and bench_precedents load (they import this
from bench/): one project of `n` items over generated issues, each with two comments, the
texts drawn by the database itself from a skewed vocabulary (the words first in the list
are the common ones), written with triggers and foreign-key checks off, then the search
rows built once (`mining_rebuild_issue_search()`, timed) and the tables analysed, as after
any bulk load. Each script brings its own generating SQL (the shapes of its texts and
states differ); this module holds what they share."""

import statistics
import time
from dataclasses import dataclass

# Technical words, common in the draw (a skewed draw favours the start of the list).
TECH_WORDS = (
    "model cuda error memory load run inference gpu out when the with version torch "
    "tokenizer training python install fails weights config batch token layer checkpoint "
    "kernel quantization attention vllm deepspeed transformers segfault deadlock nccl "
    "timeout hang assertion overflow fp16 bf16 lora adapter shard rope cache prompt "
    "generation stream server docker driver rank process thread device tensor shape "
    "dtype mismatch import module missing file path permission network download offline"
).split()
POOL = 4999  # distinct texts of each kind (prime: the strides visit every one)
LOADED_TABLES = ("mining_issue", "mining_comment", "annotate_item")


@dataclass
class Corpus:
    project: object
    loaded: float  # seconds writing the rows
    documents: int  # search rows built
    rebuilt: float  # seconds building them


def load_corpus(n: int, words: list[str], generate_sql: list[str], *, seed: float,
                groups: tuple[str, ...], **params) -> Corpus:  # fmt: skip
    """Create the bench owner, project "bench" and three repositories per group, run
    `generate_sql` (with %(words)s, %(v)s, %(n)s, %(repos)s, %(project)s, %(pool)s and
    `params`) after setseed(`seed`), and build the search rows."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from annotate.projects import services
    from mining.models import ProjectRepository, Repository

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench-owner")
    project = services.create_project(name="Bench", slug="bench", owner=owner)
    repos = []
    for group in groups:
        for k in range(3):
            repo = Repository.objects.create(owner=group.lower(), name=f"repo{k}", private=False)
            ProjectRepository.objects.create(project=project, repository=repo, group=group)
            repos.append(repo.pk)
    params = {"words": words, "v": len(words), "n": n, "repos": repos, "project": project.pk,
              "pool": POOL, **params}  # fmt: skip
    t0 = time.perf_counter()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute("SET session_replication_role = replica")  # no triggers, no FK checks
        cursor.execute("SELECT setseed(%s)", [seed])
        for sql in generate_sql:
            cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in LOADED_TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        loaded = time.perf_counter() - t0
        t0 = time.perf_counter()
        cursor.execute("SELECT mining_rebuild_issue_search()")
        documents = cursor.fetchone()[0]
        rebuilt = time.perf_counter() - t0
        cursor.execute("VACUUM ANALYZE")
    return Corpus(project, loaded, documents, rebuilt)


def p50_p95(times):
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
