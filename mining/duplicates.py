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

from mining.models import Comment, Issue
from mining.similarity import SimilarityUnavailable, combine, jaccard
from mining.storage import refresh_issue_search

NUM_HASHES = 48
# 4 rows a band: a title pair at Jaccard 0.6 meets in some band with p ≈ 0.81, at 0.8 with
# 0.999, at 0.3 with 0.09 (2-row bands let a skewed vocabulary's titles meet at 0.3).
BANDS = 12
BUCKET_CAP = 200
WINDOW = 20
PRIME = (1 << 61) - 1
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


def _hashes(tokens, cache: dict) -> np.ndarray:
    out = np.empty(len(tokens), dtype=np.uint64)
    for i, token in enumerate(tokens):
        value = cache.get(token)
        if value is None:
            value = cache[token] = zlib.crc32(token.encode())
        out[i] = value
    return out


def minhash_signatures(token_sets: list[list[str]], seed: int = 19) -> np.ndarray:
    """NUM_HASHES min-hashes per token set (rows), from hashes (a·x + b) mod PRIME; an empty
    set gets a row of the maximum (it never meets another)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 31, NUM_HASHES, dtype=np.uint64)
    b = rng.integers(0, 1 << 31, NUM_HASHES, dtype=np.uint64)
    cache: dict = {}
    lengths = np.array([len(t) for t in token_sets], dtype=np.int64)
    flat = _hashes([tok for tokens in token_sets for tok in tokens], cache)
    signatures = np.full((len(token_sets), NUM_HASHES), np.iinfo(np.uint64).max, np.uint64)
    nonempty = np.flatnonzero(lengths)
    if not len(nonempty):
        return signatures
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[nonempty]
    for k in range(NUM_HASHES):
        # 32-bit x times a < 2^31 fits in 64 bits; the modulus keeps it a universal hash
        values = (flat * a[k] + b[k]) % np.uint64(PRIME)
        signatures[nonempty, k] = np.minimum.reduceat(values, starts)
    return signatures


def candidate_pairs(signatures: np.ndarray, order_keys: list[str]) -> set[tuple[int, int]]:
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
    ids = [r[0] for r in rows]
    titles = [r[1] for r in rows]
    trigrams = [r[2] for r in rows]
    lexemes = [r[4] for r in rows]
    # Title bands and shared error lines only: shared frames without the same error add at
    # most 0.36 to a score (mining.similarity), so a pair reaching 0.6 has a title within
    # reach of the bands; banding the failure lines themselves put every issue of one
    # library's frames in one bucket (40,000 issues in bench_precedents' first run).
    pairs = candidate_pairs(minhash_signatures(trigrams), titles)
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
    (lowest id, the first stored)."""
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
    groups = []
    for root, pks in members.items():
        if len(pks) < 2:
            continue
        pks.sort(key=lambda pk: (pk not in originals, pk))
        score = max(best.get(pk, 0.0) for pk in pks)
        groups.append(DuplicateGroup(pks, sorted(group_reasons[root]), score))
    groups.sort(key=lambda g: (-len(g.members), g.members[0]))
    return groups
