"""The baselines of bench_precedents.py, kept here so that the bench times them beside
the current code in the same run on the same data:

- the duplicate groups' pair finder as it was before the speed work (commit fc8856d),
  MinHash signatures, bands and pair scores in Python loops and sets (mining.duplicates
  now does them with numpy arrays);
- the similar-issue lookup as it was before its word door (commit 55a3ae8): its title
  door asked pg_trgm's trigram GIN index for every title within similarity 0.3
  (`title % $1`), which on the bench's titles visits nearly every one."""

import zlib
from collections import defaultdict

import numpy as np
from django.db import connection

from mining.duplicates import BANDS, BUCKET_CAP, NUM_HASHES, WINDOW, _rows
from mining.similarity import RANK_SQL, Similar, combine, jaccard


def _hashes(tokens, cache: dict) -> np.ndarray:
    out = np.empty(len(tokens), dtype=np.uint64)
    for i, token in enumerate(tokens):
        value = cache.get(token)
        if value is None:
            value = cache[token] = zlib.crc32(token.encode())
        out[i] = value
    return out


def _minhash_before(token_sets: list[list[str]], seed: int = 19) -> np.ndarray:
    """NUM_HASHES min-hashes per token set (rows), from the multiply-shift hashes that
    mining.duplicates uses (so that both finders meet the same candidates; the old modulus
    hashes moved together); an empty set gets a row of the maximum (it never meets another)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 63, NUM_HASHES, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, NUM_HASHES, dtype=np.uint64)
    cache: dict = {}
    lengths = np.array([len(t) for t in token_sets], dtype=np.int64)
    flat = _hashes([tok for tokens in token_sets for tok in tokens], cache)
    signatures = np.full((len(token_sets), NUM_HASHES), np.iinfo(np.uint64).max, np.uint64)
    nonempty = np.flatnonzero(lengths)
    if not len(nonempty):
        return signatures
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[nonempty]
    for k in range(NUM_HASHES):
        values = (flat * a[k] + b[k]) >> np.uint64(32)
        signatures[nonempty, k] = np.minimum.reduceat(values, starts)
    return signatures


def _candidate_pairs_before(signatures: np.ndarray, order_keys: list[str]) -> set[tuple[int, int]]:
    """Index pairs that share a bucket in some band."""
    rows = NUM_HASHES // BANDS
    pairs: set[tuple[int, int]] = set()
    empty = np.iinfo(np.uint64).max
    for band in range(BANDS):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        block = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        for index, key in enumerate(block):
            if key[0] != empty:
                buckets[key.tobytes()].append(index)
        for members in buckets.values():
            _pairs_of(members, order_keys, pairs)
    return pairs


def _pairs_of(members: list[int], order_keys: list[str], pairs: set) -> None:
    if len(members) < 2:
        return
    if len(members) <= BUCKET_CAP:
        for i, first in enumerate(members):
            for second in members[i + 1 :]:
                pairs.add((first, second) if first < second else (second, first))
        return
    members = sorted(members, key=lambda m: order_keys[m])
    for i, first in enumerate(members):
        for second in members[i + 1 : i + 1 + WINDOW]:
            pairs.add((first, second) if first < second else (second, first))


def similar_pairs_before(issue_ids: list[int], threshold: float) -> dict[tuple[int, int], float]:
    """(issue id, issue id) -> score for the pairs of `issue_ids` scoring >= threshold."""
    rows = _rows(list(issue_ids))
    ids = [r[0] for r in rows]
    titles = [r[1] for r in rows]
    trigrams = [r[2] for r in rows]
    lexemes = [r[4] for r in rows]
    # Title bands and shared error lines only: shared frames without the same error add at
    # most 0.36 to a score (mining.similarity), so a pair reaching 0.6 has a title within
    # reach of the bands; banding the failure lines themselves put every issue of one
    # library's frames in one bucket (40,000 issues in bench_precedents' first run).
    pairs = _candidate_pairs_before(_minhash_before(trigrams), titles)
    by_error: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        if row[3]:
            by_error[row[3]].append(index)
    for members in by_error.values():
        _pairs_of(members, titles, pairs)
    found = {}
    for i, j in pairs:
        traced_i = bool(lexemes[i] or rows[i][3])
        traced_j = bool(lexemes[j] or rows[j][3])
        same_error = bool(rows[i][3]) and rows[i][3] == rows[j][3]
        score = combine(
            jaccard(trigrams[i], trigrams[j]),
            jaccard(lexemes[i], lexemes[j]),
            same_error,
            traced_i and traced_j,
        )
        if score >= threshold:
            found[(ids[i], ids[j])] = score
    return found


DOORS_BEFORE = """
WITH me AS (
    SELECT title, error_line, failure_lines FROM mining_issuesearch WHERE issue_id = %s
), candidates AS (
    (SELECT s.issue_id FROM mining_issuesearch AS s
     WHERE %s <> '' AND s.title %% %s ORDER BY similarity(s.title, %s) DESC LIMIT 200)
    UNION
    (SELECT s.issue_id FROM mining_issuesearch AS s
     WHERE %s <> '' AND s.error_line = %s LIMIT 200)
    UNION
    (SELECT s.issue_id FROM mining_issuesearch AS s
     WHERE %s <> '' AND s.failure_lines @@ plainto_tsquery('simple'::regconfig, %s) LIMIT 200)
)
"""


def similar_issues_before(pk: int, among, limit: int = 10) -> list[Similar]:
    """The lookup with the trigram title door, as mining.similarity had it (the search rows
    are built: the bench builds them once)."""
    scope_sql, scope_params = among.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SELECT title, error_line FROM mining_issuesearch WHERE issue_id = %s", [pk])
        title, error = cursor.fetchone()
        params = [pk, title, title, title, error, error, error, error, pk, *scope_params]
        cursor.execute(
            (DOORS_BEFORE + RANK_SQL).replace("{scope}", scope_sql), [*params, int(limit)]
        )
        return [Similar(row[0], *(float(v) for v in row[1:4]), bool(row[4])) for row in cursor]
