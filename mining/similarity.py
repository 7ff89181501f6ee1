"""Similar issues: which stored issues read like a given one (issue #19).

One score for every use (precedents, near-duplicate groups, the consistency report), from
the parts of an issue's search row that migration 0008 keeps:

- `title`: pg_trgm similarity of the lower-case titles (shared distinct trigrams over all
  distinct trigrams, Jaccard's coefficient on trigram sets; word order does not count);
- `trace`: 1 when both issues carry the same normalised error message, otherwise 0.6 times
  Jaccard's coefficient of the lexeme sets of their failure lines (fenced code, stack
  frames, error lines): the frames of one library recur across unrelated failures, so
  shared frames alone must not make a duplicate.

An issue pair where both sides carry failure lines scores 0.4 title + 0.6 trace: the
same stack trace under a reworded title is the duplicate the literature warns about
(Runeson et al. 2007, "Detection of duplicate defect reports using natural language
processing"; Wang et al. 2008 weigh execution information above prose the same way).
Otherwise the score is the title's similarity alone.

Candidates come from indexed doors only (titles sharing two of the title's words, or one
word of a short title, by the GIN index on the titles' English lexemes of migration 0009;
the exact error line by its btree; the error message's words in the failure lines by
their GIN index, or a trace's most specific words when it has no error message), at most
CANDIDATES from each; the score is computed on those alone,
which is what keeps the lookup within milliseconds on 100,000 issues. The title door used
to ask the trigram index for every title within similarity 0.3 (`title % q`): on 100,000
titles that walk visited nearly every one (docs/precedents.md, Speed).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from annotate.access import project_issues
from mining.storage import refresh_issue_search

TITLE_WEIGHT = 0.4
TRACE_WEIGHT = 0.6
SHARED_LINES = 0.6  # shared frames without the same error message count for less
CANDIDATES = 200  # from each door, before the scope; written into LOOKUP_SQL
TITLE_WORDS = 12  # the title's words whose pairs make the title door (66 pairs at most)
PER_WORD = 30  # titles taken for each single word of a short title
SHORT_TITLE = 3  # words: a title this short also looks for titles sharing one word
COMMON_LINE_WORD = 0.01  # a word in more failure lines than this share is common
TRACE_WORDS = 3  # failure-line words asked for when the issue has no error line


class SimilarityUnavailable(Exception):
    """Raised outside PostgreSQL: the lookup needs pg_trgm and the search rows."""


@dataclass(frozen=True)
class Similar:
    issue_id: int
    score: float
    title: float
    trace: float
    same_error: bool


def combine(title: float, trace: float, same_error: bool, both_traced: bool) -> float:
    """The one score (see the module's docstring); the Python twin of the SQL function
    mining_similarity_score (migration 0008)."""
    if both_traced:
        shared = max(SHARED_LINES * trace, float(same_error))
        return round(TITLE_WEIGHT * title + TRACE_WEIGHT * shared, 4)
    return round(title, 4)


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


# The issue's own parts, read first, come to the doors as literal parameters: from a CTE,
# the planner joined every issue of the scope to a door instead of asking its index. The
# title's words are its English lexemes (stop words dropped, stems), the first
# TITLE_WORDS in title order; see title_queries.
OWN_SQL = """
SELECT s.title, s.error_line, ARRAY(
    SELECT w.lexeme FROM unnest(to_tsvector('english'::regconfig, s.title)) AS w
    ORDER BY w.positions[1] LIMIT %s
), tsvector_to_array(to_tsvector('simple'::regconfig, s.error_line)),
tsvector_to_array(s.failure_lines), ARRAY(
    SELECT u.word FROM pg_stats AS p,
        unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs) AS u(word, share)
    WHERE p.schemaname = current_schema() AND p.tablename = 'mining_issuesearch'
      AND p.attname = 'failure_lines' AND u.share > %s)
FROM mining_issuesearch AS s WHERE s.issue_id = %s
"""


def _lexeme(word: str) -> str:
    """`word` as a quoted tsquery lexeme (a quote doubled, a backslash escaped)."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def line_query(words: list[str], common: list[str]) -> str:
    """A tsquery of the error line's words that are not `common` in failure lines (all of
    them when every one is): the failure-line door asks its index for these, then keeps
    the rows holding every word (the same rows as asking for all, without walking the
    posting lists of words that 40% of failure lines hold)."""
    common = set(common)
    rare = [word for word in words if word not in common] or words
    return " & ".join(_lexeme(word) for word in dict.fromkeys(rare))


def trace_query(lexemes: list[str], common: list[str]) -> str:
    """For an issue whose failure lines hold no error message (a Java trace whose first
    line is a bare exception name, a Rust panic's frames): a tsquery of its TRACE_WORDS
    most specific failure-line words, the longest that are not `common` (qualified frame
    names such as `org.apache.spark.rdd.rdd.collect`), so that the failure-line door still
    finds the same trace under another title. '' when there are no failure lines."""
    common = set(common)
    rare = [word for word in lexemes if word not in common] or list(lexemes)
    chosen = sorted(dict.fromkeys(rare), key=lambda word: (-len(word), word))[:TRACE_WORDS]
    return " & ".join(_lexeme(word) for word in chosen)


def title_queries(words: list[str]) -> tuple[str, list[str]]:
    """(a tsquery matching titles that hold any two of `words`, '' for fewer than two; a
    tsquery for each word alone when they are at most SHORT_TITLE, else none: sharing one
    word of a longer title does not bring a title's trigram similarity near a match)."""
    single = [_lexeme(word) for word in dict.fromkeys(words)]
    pairs = [f"{a} & {b}" for i, a in enumerate(single) for b in single[i + 1 :]]
    return " | ".join(pairs), single if len(single) <= SHORT_TITLE else []


# The doors take their candidates from every issue; the scope narrows those few after.
DOORS_SQL = """
WITH me AS (
    SELECT title, error_line, failure_lines FROM mining_issuesearch WHERE issue_id = %s
), candidates AS (
    (SELECT s.issue_id FROM mining_issuesearch AS s
     WHERE %s <> ''
       AND to_tsvector('english'::regconfig, s.title) @@ CAST(%s AS tsquery)
     ORDER BY similarity(s.title, %s) DESC LIMIT 200)
    UNION
    (SELECT found.issue_id FROM unnest(CAST(%s AS text[])) AS word, LATERAL (
        SELECT s.issue_id FROM mining_issuesearch AS s
        WHERE to_tsvector('english'::regconfig, s.title) @@ CAST(word AS tsquery)
        LIMIT %s) AS found)
    UNION
    (SELECT s.issue_id FROM mining_issuesearch AS s
     WHERE %s <> '' AND s.error_line = %s LIMIT 200)
    UNION
    (SELECT s.issue_id FROM mining_issuesearch AS s
     WHERE %s <> '' AND s.failure_lines @@ CAST(%s AS tsquery)
       AND (%s = '' OR ts_match_vq(s.failure_lines, plainto_tsquery('simple'::regconfig, %s)))
     LIMIT 200)
)
"""

# The candidates scored, in the scope, best first.
RANK_SQL = """
SELECT s.issue_id, mining_similarity_score(
        s.title, me.title, s.failure_lines, me.failure_lines, s.error_line, me.error_line) AS score,
    round(similarity(s.title, me.title)::numeric, 4),
    round(mining_lexeme_jaccard(s.failure_lines, me.failure_lines)::numeric, 4),
    (me.error_line <> '' AND s.error_line = me.error_line)
FROM candidates AS c JOIN mining_issuesearch AS s ON s.issue_id = c.issue_id, me
WHERE s.issue_id <> %s AND s.issue_id IN ({scope})
ORDER BY score DESC, s.issue_id
LIMIT %s
"""
LOOKUP_SQL = DOORS_SQL + RANK_SQL


def similar_issues(issue, project=None, limit: int = 10, *, among=None, min_score: float = 0.0):
    """The issues most like `issue` (an Issue or its id), best first, as `Similar` rows.

    Candidates are `among` (a queryset of Issue rows, e.g. a project's settled items'
    issues, or a pool's mined issues) or, by default, the issues of `project`'s items. The caller
    has checked the project's membership (annotate.access); this reads no labels.

    Four doors, each an index read, find the candidates; the score ranks them: titles
    sharing two of the title's words (every pair of its first TITLE_WORDS words, one GIN
    read of migration 0009's word index, the CANDIDATES most similar kept), PER_WORD
    titles for each single word of a title of at most SHORT_TITLE words, the same error
    line (btree), and the error message's words in other issues' failure lines (GIN,
    asked for the words that are not common: line_query), or, for an issue whose failure
    lines hold no error message, their most specific words (trace_query). Three queries: the
    deferred refresh, the issue's own parts, the lookup."""
    if connection.vendor != "postgresql":
        raise SimilarityUnavailable("Similar issues need PostgreSQL (pg_trgm).")
    if among is None:
        among = project_issues(project)
    refresh_issue_search()
    scope_sql, scope_params = among.order_by().values("id").query.sql_with_params()
    pk = getattr(issue, "pk", issue)
    with connection.cursor() as cursor:
        cursor.execute(OWN_SQL, [TITLE_WORDS, COMMON_LINE_WORD, pk])
        own = cursor.fetchone()
        if own is None:
            return []
        title, error, words, error_words, trace_words, common = own
        pairs, words = title_queries(words)
        if error_words:
            line = line_query(error_words, common)
        else:  # no error message: the trace's most specific words
            line = trace_query(trace_words, common)
        doors = [pk, pairs, pairs, title, words, PER_WORD, error, error]
        doors += [line, line, error, error]
        params = [*doors, pk, *scope_params, int(limit)]
        cursor.execute(LOOKUP_SQL.replace("{scope}", scope_sql), params)
        rows = cursor.fetchall()
    return [
        Similar(pk, float(score), float(title), float(trace), bool(same))
        for pk, score, title, trace, same in rows
        if float(score) >= min_score
    ]


def pair_score(first, second) -> Similar | None:
    """The score of two issues (ids), or None when either has no search row."""
    refresh_issue_search()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.issue_id, mining_similarity_score(s.title, me.title,
                    s.failure_lines, me.failure_lines, s.error_line, me.error_line),
                similarity(s.title, me.title),
                mining_lexeme_jaccard(s.failure_lines, me.failure_lines),
                (me.error_line <> '' AND s.error_line = me.error_line)
            FROM mining_issuesearch AS s, mining_issuesearch AS me
            WHERE s.issue_id = %s AND me.issue_id = %s""",
            [second, first],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return Similar(row[0], float(row[1]), float(row[2]), float(row[3]), bool(row[4]))
