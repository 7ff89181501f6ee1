"""Groups of near-duplicate issues (issue #19), for the pool builder and the API.

Two issues are near-duplicates when their similarity score (mining.similarity, the same
score the lookup ranks by) reaches the owner's threshold, or when GitHub says so: a
comment "Duplicate of #N" (GitHub's own marker text) links an issue to issue N of the
same repository. Groups are the connected components of those links (union-find).

Comparing every pair of 100,000 issues is 5·10⁹ scores; the pairs worth scoring are
found with MinHash locality-sensitive hashing (Broder 1997, "On the resemblance and
containment of documents"; Leskovec, Rajaraman & Ullman, "Mining of Massive Datasets",
ch. 3): each issue's title trigrams (pg_trgm's own, from show_trgm) are signed with NUM_HASHES
min-hashes, cut into BANDS bands; issues that share a band's bucket, or share a
normalised error line, are scored exactly. A bucket larger
than BUCKET_CAP (a generic title) is compared along a window of its title order only.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from scipy import sparse

from mining.models import Comment, Issue
from mining.similarity import (
    SHARED_LINES,
    TITLE_WEIGHT,
    TRACE_WEIGHT,
    SimilarityUnavailable,
    combine,
)
from mining.storage import refresh_issue_search

NUM_HASHES = 48
# 4 rows a band: a title pair at Jaccard 0.6 meets in some band with p ≈ 0.81, at 0.8 with
# 0.999, at 0.3 with 0.09 (2-row bands let a skewed vocabulary's titles meet at 0.3).
BANDS = 12
BUCKET_CAP = 200
WINDOW = 20
CHUNK_VALUES = 4_000_000  # token ids of the pairs merged at once
# Up to this many pairs (about 1,000 issues: a consistency report's settled items, a small
# pool) every pair is scored: banding misses a pair at Jaccard 0.6 about one time in five.
EXHAUSTIVE_PAIRS = 500_000
DUPLICATE_OF = re.compile(r"(?im)^\s*duplicate of\s+#(\d+)\b")


@dataclass
class DuplicateGroup:
    members: list[int]  # issue ids, representative first
    reasons: list[str] = field(default_factory=list)  # "similar text", "GitHub marker"
    score: float = 0.0  # the highest pair score inside the group (1.0 for a marker)

    @property
    def representative(self) -> int:
        return self.members[0]


class _Union:
    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _token_ids(token_sets) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Token sets as CSR arrays: (starts, ids) with row r's ids at ids[starts[r]:starts[r + 1]],
    each row's ids distinct; and the distinct tokens, by id."""
    index: dict[str, int] = {}
    flat: list[int] = []
    starts = [0]
    for tokens in token_sets:
        row = {index.setdefault(token, len(index)) for token in tokens}
        flat.extend(row)
        starts.append(len(flat))
    return np.array(starts, np.int64), np.array(flat, np.int64), list(index)


def minhash_signatures(token_sets: list[list[str]], seed: int = 19) -> np.ndarray:
    """NUM_HASHES min-hashes per token set (rows), from multiply-shift hashes of each
    token's CRC-32; an empty set gets a row of the maximum (it never meets another)."""
    starts, ids, tokens = _token_ids(token_sets)
    return _signatures(starts, ids, tokens, seed)


def _signatures(starts, ids, tokens, seed: int = 19) -> np.ndarray:
    # Multiply-shift (Dietzfelbinger et al. 1997): (a·x + b) mod 2^64 with a random odd
    # 64-bit a, its high 32 bits kept. The former (a·x + b) mod (2^61 - 1) with a < 2^31 and
    # a 32-bit x barely wrapped, so its 48 orders were nearly one and moved together: the
    # share of equal min-hashes missed the Jaccard coefficient by 0.25 (root mean square).
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 63, NUM_HASHES, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, NUM_HASHES, dtype=np.uint64)
    shift = np.uint64(32)
    crc = np.array([zlib.crc32(token.encode()) for token in tokens], np.uint64)
    flat = crc[ids]
    lengths = np.diff(starts)
    signatures = np.full((len(lengths), NUM_HASHES), np.iinfo(np.uint64).max, np.uint64)
    nonempty = np.flatnonzero(lengths)
    if not len(nonempty):
        return signatures
    for k in range(NUM_HASHES):
        values = (flat * a[k] + b[k]) >> shift  # uint64 arithmetic wraps: mod 2^64
        signatures[nonempty, k] = np.minimum.reduceat(values, starts[nonempty])
    return signatures


def _bucket_pairs(groups: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Pairs (i < j, encoded i·n + j) inside each bucket: `groups[i]` is row i's bucket (-1:
    none). A bucket of at most BUCKET_CAP rows gives all its pairs; a larger one (a generic
    title) pairs each row with the WINDOW rows after it in `ranks` order (title order)."""
    n = len(groups)
    rows = np.flatnonzero(groups >= 0)
    rows = rows[np.lexsort((ranks[rows], groups[rows]))]
    bucket = groups[rows]
    _, first, sizes = np.unique(bucket, return_index=True, return_counts=True)
    size = np.repeat(sizes, sizes)  # each position's bucket size (rows sorted by bucket)
    found = []
    for d in range(1, min(BUCKET_CAP, int(sizes.max(initial=0)))):
        same = bucket[d:] == bucket[:-d]
        same &= (size[d:] <= BUCKET_CAP) | (d <= WINDOW)
        if not same.any():
            break
        i, j = rows[:-d][same], rows[d:][same]
        found.append(np.minimum(i, j) * n + np.maximum(i, j))
    return np.concatenate(found) if found else np.empty(0, np.int64)


def candidate_pairs(signatures: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Encoded pairs (i·n + j, i < j) of rows that share a bucket in some band; `ranks` is
    each row's place in title order."""
    per_band = NUM_HASHES // BANDS
    empty = signatures[:, 0] == np.iinfo(np.uint64).max
    found = []
    for band in range(BANDS):
        block = np.ascontiguousarray(signatures[:, band * per_band : (band + 1) * per_band])
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * per_band))).ravel()
        groups = np.unique(keys, return_inverse=True)[1].ravel().astype(np.int64)
        groups[empty] = -1
        found.append(_bucket_pairs(groups, ranks))
    return np.concatenate(found) if found else np.empty(0, np.int64)


def _padded(starts, ids, vocabulary: int) -> np.ndarray:
    """The CSR token sets as one row each, ids ascending, padded on the right with
    `vocabulary` (above every id)."""
    lengths = np.diff(starts)
    table = np.full((len(lengths), max(int(lengths.max(initial=0)), 1)), vocabulary, np.int64)
    row = np.repeat(np.arange(len(lengths)), lengths)
    table[row, np.arange(len(ids)) - starts[row]] = ids
    table.sort(axis=1)
    return table


def _intersections(table: np.ndarray, first, second, vocabulary: int) -> np.ndarray:
    """|A ∩ B| for each pair of rows (first[p], second[p]) of a _padded table: each side's
    rows, offset by pair so that they are one ascending run, merged; a token value met
    twice is a shared token."""
    stride = vocabulary + 1
    out = np.zeros(len(first), np.int64)
    chunk = max(1_000, CHUNK_VALUES // table.shape[1])
    for lo in range(0, len(first), chunk):
        f, g = first[lo : lo + chunk], second[lo : lo + chunk]
        offsets = (np.arange(len(f), dtype=np.int64) * stride)[:, None]
        keys = np.concatenate(((table[f] + offsets).ravel(), (table[g] + offsets).ravel()))
        keys.sort(kind="stable")  # two ascending runs: a merge
        met = keys[1:][keys[1:] == keys[:-1]]
        shared = met[met % stride < vocabulary] // stride  # met padding is no shared token
        out[lo : lo + chunk] = np.bincount(shared, minlength=len(f))
    return out


def _distinct(values: np.ndarray) -> np.ndarray:
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _jaccards(starts, ids, first, second, vocabulary: int) -> np.ndarray:
    """Jaccard's coefficient of each pair's token sets (0 when either is empty), as
    mining.similarity.jaccard computes it one pair at a time."""
    sizes = np.diff(starts)
    a, b = sizes[first], sizes[second]
    both = np.flatnonzero((a > 0) & (b > 0))
    out = np.zeros(len(first))
    if len(both):
        table = _padded(starts, ids, vocabulary)
        common = _intersections(table, first[both], second[both], vocabulary)
        out[both] = common / (a[both] + b[both] - common)
    return out


def _all_jaccards(starts, ids, first, second, vocabulary: int) -> np.ndarray:
    """The same coefficients as _jaccards, for pairs among few rows: |A ∩ B| of every pair
    at once, as the product of the rows' sparse 0/1 token matrix with its transpose."""
    sizes = np.diff(starts)
    shape = (len(sizes), max(vocabulary, 1))
    matrix = sparse.csr_matrix((np.ones(len(ids), np.int64), ids, starts), shape=shape)
    common = (matrix @ matrix.T).toarray()[first, second]
    a, b = sizes[first], sizes[second]
    out = np.zeros(len(first))
    both = np.flatnonzero((a > 0) & (b > 0))
    out[both] = common[both] / (a[both] + b[both] - common[both])
    return out


def _rows(issue_ids: list[int]):
    refresh_issue_search()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.issue_id, s.title, show_trgm(s.title), s.error_line,
                   tsvector_to_array(s.failure_lines)
               FROM mining_issuesearch AS s WHERE s.issue_id = ANY(%s) ORDER BY s.issue_id""",
            [issue_ids],
        )
        return cursor.fetchall()


def similar_pairs(issue_ids: list[int], threshold: float) -> dict[tuple[int, int], float]:
    """(issue id, issue id) -> score for the pairs of `issue_ids` scoring >= threshold."""
    if connection.vendor != "postgresql":
        raise SimilarityUnavailable("Duplicate groups need PostgreSQL (pg_trgm).")
    rows = _rows(list(issue_ids))
    if not rows:
        return {}
    n = len(rows)
    ids = [r[0] for r in rows]
    titles = [r[1] for r in rows]
    errors = [r[3] for r in rows]
    ranks = np.empty(n, np.int64)
    ranks[sorted(range(n), key=titles.__getitem__)] = np.arange(n)
    t_starts, t_ids, t_tokens = _token_ids(r[2] for r in rows)
    l_starts, l_ids, l_tokens = _token_ids(r[4] for r in rows)
    # Title bands and shared error lines only: shared frames without the same error add at
    # most 0.36 to a score (mining.similarity), so a pair reaching 0.6 has a title within
    # reach of the bands; banding the failure lines themselves put every issue of one
    # library's frames in one bucket (40,000 issues in bench_precedents' first run).
    error_index: dict[str, int] = {}
    error_groups = np.array(
        [error_index.setdefault(e, len(error_index)) if e else -1 for e in errors], np.int64
    )
    if n * (n - 1) // 2 <= EXHAUSTIVE_PAIRS:
        first, second = (rows.astype(np.int64) for rows in np.triu_indices(n, 1))
        jaccards = _all_jaccards
    else:
        pairs = _distinct(
            np.concatenate(
                (
                    candidate_pairs(_signatures(t_starts, t_ids, t_tokens), ranks),
                    _bucket_pairs(error_groups, ranks),
                )
            )
        )
        first, second = pairs // n, pairs % n
        jaccards = _jaccards
    title = jaccards(t_starts, t_ids, first, second, len(t_tokens))
    trace = jaccards(l_starts, l_ids, first, second, len(l_tokens))
    traced = (np.diff(l_starts) > 0) | (error_groups >= 0)
    same_error = (error_groups[first] >= 0) & (error_groups[first] == error_groups[second])
    both = traced[first] & traced[second]
    shared = np.maximum(SHARED_LINES * trace, same_error)
    score = np.where(both, TITLE_WEIGHT * title + TRACE_WEIGHT * shared, title)
    found = {}
    # combine() rounds and decides, pair by pair, for the few near the threshold or over it
    for p in np.flatnonzero(score >= threshold - 1e-3):
        i, j = int(first[p]), int(second[p])
        exact = combine(float(title[p]), float(trace[p]), bool(same_error[p]), bool(both[p]))
        if exact >= threshold:
            found[(ids[i], ids[j])] = exact
    return found


def marker_links(issue_ids: list[int]) -> list[tuple[int, int]]:
    """(issue, original) pairs inside `issue_ids` from "Duplicate of #N" comments or bodies."""
    chosen = Issue.objects.filter(pk__in=issue_ids)
    numbers = {(r, n): pk for pk, r, n in chosen.values_list("pk", "repository_id", "number")}
    texts = list(chosen.values_list("pk", "repository_id", "body"))
    comments = Comment.objects.filter(issue__in=chosen, body__icontains="duplicate of")
    texts += list(comments.values_list("issue_id", "issue__repository_id", "body"))
    links = []
    for pk, repository_id, body in texts:
        for match in DUPLICATE_OF.finditer(body or ""):
            original = numbers.get((repository_id, int(match.group(1))))
            if original and original != pk:
                links.append((pk, original))
    return links


def duplicate_groups(issue_ids, threshold: float, *, markers: bool = True):
    """The groups (two or more issues) among `issue_ids`, largest first; each group's
    representative is the issue the others were marked duplicates of, else the oldest
    (first opened on GitHub; an issue without that date after those with it, then the
    first stored)."""
    issue_ids = list(issue_ids)
    union = _Union()
    best: dict[int, float] = {}
    reasons: dict[tuple[int, int], str] = {}
    originals: set[int] = set()
    for (a, b), score in similar_pairs(issue_ids, threshold).items():
        union.join(a, b)
        reasons[(a, b)] = "similar text"
        best[a] = max(best.get(a, 0.0), score)
        best[b] = max(best.get(b, 0.0), score)
    if markers:
        for duplicate, original in marker_links(issue_ids):
            union.join(duplicate, original)
            originals.add(original)
            reasons[(duplicate, original)] = "GitHub marker"
            best[duplicate] = best[original] = 1.0
    members: dict[int, list[int]] = defaultdict(list)
    for pk in union.parent:
        members[union.find(pk)].append(pk)
    group_reasons: dict[int, set] = defaultdict(set)
    for (a, _b), reason in reasons.items():
        group_reasons[union.find(a)].add(reason)
    # "The oldest" is the first opened on GitHub: the miner stores issues by last update,
    # so the lowest id is the least recently updated, not the oldest.
    grouped = [pk for pks in members.values() if len(pks) > 1 for pk in pks]
    opened = dict(Issue.objects.filter(pk__in=grouped).values_list("pk", "created_at"))
    groups = []
    for root, pks in members.items():
        if len(pks) < 2:
            continue
        pks.sort(key=lambda pk: (pk not in originals, opened.get(pk) is None, opened.get(pk), pk))
        score = max(best.get(pk, 0.0) for pk in pks)
        groups.append(DuplicateGroup(pks, sorted(group_reasons[root]), score))
    groups.sort(key=lambda g: (-len(g.members), g.members[0]))
    return groups
