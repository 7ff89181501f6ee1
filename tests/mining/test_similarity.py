"""Similar issues and near-duplicate groups (issue #19) on seeded near-duplicates: a
reworded title over the same stack trace, near-identical titles, one error message under
two titles, GitHub's "Duplicate of #N" marker."""

import random

import numpy as np
import pytest
from django.db import connection

from mining.duplicates import (
    BUCKET_CAP,
    WINDOW,
    _bucket_pairs,
    duplicate_groups,
    marker_links,
    minhash_signatures,
    similar_pairs,
)
from mining.similarity import (
    combine,
    jaccard,
    line_query,
    pair_score,
    similar_issues,
    title_queries,
    trace_query,
)
from mining.storage import refresh_issue_search
from tests.factories import IssueFactory, ItemFactory, RepositoryFactory
from tests.near_duplicates import seed_corpus


@pytest.fixture
def corpus(project):
    repository = RepositoryFactory()
    issues = seed_corpus(repository)
    for issue in issues.values():  # the default scope: the project's items' issues
        ItemFactory(project=project, issue=issue)
    return issues


def _ranked(issue, project):
    return [s.issue_id for s in similar_issues(issue, project, limit=5)]


def test_the_same_stack_trace_finds_a_reworded_title(corpus, project):
    found = {s.issue_id: s for s in similar_issues(corpus["oom"], project)}
    reworded = found[corpus["oom_reworded"].pk]
    assert reworded.same_error  # paths, line numbers and sizes are blanked
    assert reworded.score >= 0.6
    assert corpus["docs"].pk not in found or found[corpus["docs"].pk].score < 0.2


def test_a_near_identical_title_ranks_first_without_a_trace(corpus, project):
    ranked = _ranked(corpus["oom_same_title"], project)
    assert ranked[0] == corpus["oom"].pk


def test_a_reworded_short_title_is_found(corpus, project):
    assert _ranked(corpus["hang"], project)[0] == corpus["hang_reworded"].pk


def test_one_error_message_under_two_titles(corpus, project):
    top = similar_issues(corpus["illegal"], project, limit=1)[0]
    assert top.issue_id == corpus["illegal_other_title"].pk
    assert top.same_error and top.trace == 1.0


def test_the_lookup_never_leaves_its_scope(corpus, project):
    other = seed_corpus(RepositoryFactory())  # no items in the project: outside it
    found = {s.issue_id for s in similar_issues(corpus["oom"], project, limit=50)}
    assert not found & {issue.pk for issue in other.values()}
    assert corpus["oom"].pk not in found  # never itself


def test_python_and_sql_scores_agree(corpus):
    """The groups score pairs in Python (mining.duplicates), the lookup in SQL: one score."""
    a, b = corpus["oom"], corpus["oom_reworded"]
    sql = pair_score(a.pk, b.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT issue_id, show_trgm(title), tsvector_to_array(failure_lines), error_line "
            "FROM mining_issuesearch WHERE issue_id = ANY(%s) ORDER BY issue_id",
            [[a.pk, b.pk]],
        )
        (_, ta, la, ea), (_, tb, lb, eb) = cursor.fetchall()
    python = combine(jaccard(ta, tb), jaccard(la, lb), ea == eb and bool(ea), True)
    assert python == pytest.approx(sql.score, abs=1e-4)
    assert jaccard(ta, tb) == pytest.approx(sql.title, abs=1e-4)


def test_duplicate_groups_join_near_duplicates_and_github_markers(corpus):
    groups = duplicate_groups([i.pk for i in corpus.values()], threshold=0.5)
    as_sets = {frozenset(g.members): g for g in groups}
    oom = frozenset(corpus[k].pk for k in ("oom", "oom_reworded", "oom_same_title"))
    assert oom in as_sets
    assert frozenset({corpus["hang"].pk, corpus["hang_reworded"].pk}) in as_sets
    assert frozenset({corpus["illegal"].pk, corpus["illegal_other_title"].pk}) in as_sets
    marked = as_sets[frozenset({corpus["template"].pk, corpus["template_marked"].pk})]
    assert marked.reasons == ["GitHub marker"]
    assert marked.representative == corpus["template"].pk  # the original, not the duplicate
    assert all(corpus["docs"].pk not in g.members for g in groups)


def test_a_higher_threshold_splits_what_only_the_prose_joins(corpus):
    groups = duplicate_groups([i.pk for i in corpus.values()], threshold=0.95, markers=False)
    joined = {pk for g in groups for pk in g.members}
    assert corpus["hang"].pk not in joined


def test_marker_links_read_comments_and_stay_in_the_repository(corpus):
    links = marker_links([i.pk for i in corpus.values()])
    assert links == [(corpus["template_marked"].pk, corpus["template"].pk)]


def test_minhash_agrees_on_equal_sets_and_leaves_empty_ones_apart():
    signatures = minhash_signatures([["abc", "bcd"], ["bcd", "abc"], []])
    assert np.array_equal(signatures[0], signatures[1])
    assert (signatures[2] == np.iinfo(np.uint64).max).all()


def _trigrams(title: str) -> list[str]:
    """pg_trgm's trigrams of a lower-case title: each word padded with two blanks before
    and one after."""
    grams = set()
    for word in title.split():
        padded = f"  {word} "
        grams.update(padded[k : k + 3] for k in range(len(padded) - 2))
    return sorted(grams)


def test_the_share_of_equal_minhashes_estimates_the_jaccard_coefficient():
    """MinHash's promise (Broder 1997): two sets' min-hashes agree with probability equal to
    their Jaccard coefficient, each independently, so the share of the NUM_HASHES that agree
    has a standard error of at most sqrt(0.25 / NUM_HASHES) ≈ 0.07. The banding's recall
    rests on it: hashes that move together make a pair at 0.8 miss every band."""
    rng = random.Random(11)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(300)]
    sets, truth = [], []
    for _ in range(300):
        first = rng.sample(words, 7)
        second = list(first)
        for _ in range(rng.randint(1, 3)):
            second[rng.randrange(7)] = rng.choice(words)
        a, b = _trigrams(" ".join(first)), _trigrams(" ".join(second))
        sets += [a, b]
        truth.append(jaccard(a, b))
    signatures = minhash_signatures(sets)
    estimate = (signatures[0::2] == signatures[1::2]).mean(axis=1)
    error = estimate - np.array(truth)
    assert abs(error.mean()) < 0.03
    assert np.sqrt((error**2).mean()) < 0.1  # was 0.25: the 48 hashes moved together


def test_the_groups_array_scores_equal_the_sql_score_of_every_pair(corpus):
    """similar_pairs scores its candidate pairs with numpy arrays (token sets of unequal
    sizes, empty failure lines, shared error lines at once); each must be the one score."""
    ids = [i.pk for i in corpus.values()]
    scored = similar_pairs(ids, threshold=0.01)
    assert len(scored) >= 5
    for (a, b), score in scored.items():
        assert score == pytest.approx(pair_score(a, b).score, abs=1e-4), (a, b)


def _every_pair_at(issue_ids, threshold) -> dict:
    """The pairs scoring at least `threshold`, by brute force: the SQL score of every pair."""
    refresh_issue_search()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.issue_id, b.issue_id, mining_similarity_score(a.title, b.title,
                    a.failure_lines, b.failure_lines, a.error_line, b.error_line)
               FROM mining_issuesearch AS a JOIN mining_issuesearch AS b
                 ON a.issue_id < b.issue_id
               WHERE a.issue_id = ANY(%s) AND b.issue_id = ANY(%s)""",
            [issue_ids, issue_ids],
        )
        return {(a, b): score for a, b, score in cursor.fetchall() if score >= threshold}


def test_no_pair_at_the_threshold_is_missed_among_a_few_hundred_issues(db):
    """The consistency report's settled items and a small pool are a few hundred issues:
    every pair that reaches the threshold is a near-duplicate, as a brute-force count finds
    (the methods section reports the count). Banding alone missed 15 of 85 such pairs here,
    one at 0.78."""
    rng = random.Random(7)
    words = (
        "model tokenizer cuda memory loading weights quantized kernel server batch stream "
        "decode prompt cache layer rotary attention flash vllm llama qwen deepseek gguf "
        "tensor parallel pipeline expert router softmax logits sampler beam greedy adapter "
        "lora merge shard checkpoint convert export onnx triton compile graph fused norm"
    ).split()
    repository = RepositoryFactory()
    ids = []
    for _ in range(150):
        title = rng.sample(words, 7)
        twin = list(title)
        twin[rng.randrange(7)] = rng.choice(words)
        twin[rng.randrange(7)] = rng.choice(words)
        for text in (title, twin):
            ids.append(IssueFactory(repository=repository, title=" ".join(text), body="").pk)
    expected = _every_pair_at(ids, 0.6)
    assert len(expected) > 50
    assert similar_pairs(ids, 0.6) == expected


def test_buckets_pair_everyone_when_small_and_a_title_window_when_large():
    small = _bucket_pairs(np.array([0, 0, 0, -1, 1]), np.arange(5))
    assert sorted(small.tolist()) == [0 * 5 + 1, 0 * 5 + 2, 1 * 5 + 2]  # -1: no bucket
    n = BUCKET_CAP + 5  # one generic bucket: each row meets the WINDOW next in title order
    large = _bucket_pairs(np.zeros(n, np.int64), np.arange(n)[::-1].copy())
    assert len(large) == sum(min(WINDOW, n - 1 - k) for k in range(n))
    assert {int(p) // n - int(p) % n for p in large} == set(range(-WINDOW, 0))


def test_a_long_rewording_sharing_the_titles_words_is_found(corpus, project):
    # Trigram similarity of the whole titles stays under pg_trgm's 0.3 (the longer title
    # dilutes it), so a door of titles within 0.3 never offered it; the two share
    # "deepspeed", "checkpoint" and "hang" (stems): the word door does.
    short = IssueFactory(title="DeepSpeed checkpoint hangs", body="No trace, it just sits.")
    long = IssueFactory(
        title="Saving a ZeRO-3 checkpoint with deepspeed 0.14 on eight A100 nodes over "
        "InfiniBand hangs after the optimizer states are written",
        body="Nothing printed.",
    )
    for issue in (short, long):
        ItemFactory(project=project, issue=issue)
    assert pair_score(short.pk, long.pk).title < 0.3
    assert long.pk in {s.issue_id for s in similar_issues(short, project, limit=50)}
    assert short.pk in {s.issue_id for s in similar_issues(long, project, limit=50)}


def test_the_lookup_takes_three_queries(corpus, project, django_assert_num_queries):
    similar_issues(corpus["oom"], project)  # the search rows built
    with django_assert_num_queries(3):  # the deferred refresh, the issue's parts, the doors
        found = similar_issues(corpus["oom"], project, limit=5)
    assert found[0].issue_id == corpus["oom_same_title"].pk


def test_re_mined_text_moves_the_lookup(corpus, project):
    assert corpus["docs"].pk not in {s.issue_id for s in similar_issues(corpus["hang"], project)}
    docs = corpus["docs"]
    docs.title = "Tokenizer hangs on an empty string"  # edited on GitHub, fetched again
    docs.save()
    found = {s.issue_id: s for s in similar_issues(corpus["hang"], project)}
    assert found[docs.pk].title > 0.5
    docs.title = "Typo in the README install section"
    docs.save()
    assert docs.pk not in {s.issue_id for s in similar_issues(corpus["hang"], project)}


@pytest.mark.parametrize(
    "words, pairs, single",
    [
        (["cuda"], "", ["'cuda'"]),
        (["it's", "a\\b", "it's"], "'it''s' & 'a\\\\b'", ["'it''s'", "'a\\\\b'"]),
        (
            ["a", "b", "c", "d"],
            "'a' & 'b' | 'a' & 'c' | 'a' & 'd' | 'b' & 'c' | 'b' & 'd' | 'c' & 'd'",
            [],
        ),  # fmt: skip
    ],
)
def test_title_queries_quote_every_word_and_pair_them(words, pairs, single):
    assert title_queries(words) == (pairs, single)


def test_title_queries_match_the_lexemes_they_quote(db):
    words = ["it's", "a\\b", "cuda"]
    pairs, single = title_queries(words)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_to_tsvector(%s::text[]) @@ %s::tsquery, "
            "array_to_tsvector(%s::text[]) @@ %s::tsquery, "
            "array_to_tsvector(%s::text[]) @@ %s::tsquery",
            [words[:2], pairs, words[1:2], pairs, words[:1], single[0]],
        )
        assert cursor.fetchone() == (True, False, True)  # two words match, one alone not


@pytest.mark.parametrize(
    "words, common, query",
    [
        (
            ["runtimeerror", "in", "sipiveka", "layer"],
            ["in", "layer"],
            "'runtimeerror' & 'sipiveka'",
        ),
        (["in", "layer", "in"], ["in", "layer"], "'in' & 'layer'"),  # every word common: all
        (["it's"], [], "'it''s'"),
    ],
)
def test_the_failure_line_door_asks_for_the_error_lines_uncommon_words(words, common, query):
    assert line_query(words, common) == query


def test_the_failure_line_door_finds_the_error_message_in_other_failure_lines(corpus, project):
    # "illegal" and "illegal_other_title" carry the same lines: found by words and error
    found = {s.issue_id: s for s in similar_issues(corpus["illegal_other_title"], project)}
    assert found[corpus["illegal"].pk].trace == 1.0


JAVA_TRACE = """The job dies while collecting:

```
java.lang.IllegalStateException
\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2454)
\tat org.apache.spark.scheduler.DAGScheduler.abortStage(DAGScheduler.scala:2403)
\tat org.apache.spark.rdd.RDD.collect(RDD.scala:1030)
```
"""


def test_the_same_trace_without_an_error_message_is_found_under_another_title(project):
    """Before: with no error line (a bare exception name has no message) the failure-line
    door was shut and the titles share no word, so the same trace was never a candidate,
    though its pair score (trace 1.0) is well above the precedents' cut."""
    repository = RepositoryFactory()
    first = IssueFactory(repository=repository, title="Job aborts when collecting results",
                         body=JAVA_TRACE)  # fmt: skip
    second = IssueFactory(repository=repository, title="Spark stage fails at the end",
                          body=JAVA_TRACE)  # fmt: skip
    other = IssueFactory(repository=repository, title="Docs typo in the README", body="Fix it.")
    for issue in (first, second, other):
        ItemFactory(project=project, issue=issue)
    refresh_issue_search()
    with connection.cursor() as cursor:  # the case at hand: failure lines, no error line
        cursor.execute(
            "SELECT error_line, failure_lines <> ''::tsvector FROM mining_issuesearch"
            " WHERE issue_id = %s",
            [first.pk],
        )
        assert cursor.fetchone() == ("", True)
    expected = pair_score(first.pk, second.pk)
    assert expected.score >= 0.2
    found = {s.issue_id: s for s in similar_issues(first, project)}
    assert found[second.pk].score == pytest.approx(expected.score, abs=1e-4)


@pytest.mark.parametrize(
    ("lexemes", "common", "query"),
    [
        (["at", "org.apache.spark.rdd.rdd.collect", "rdd.scala", "java"], ["at"],
         "'org.apache.spark.rdd.rdd.collect' & 'rdd.scala' & 'java'"),
        (["a", "b"], ["a", "b"], "'a' & 'b'"),  # every word common: all of them
        ([], [], ""),
        (["x", "it's"], [], "'it''s' & 'x'"),
    ],
)  # fmt: skip
def test_the_trace_door_asks_for_the_most_specific_words(lexemes, common, query):
    assert trace_query(lexemes, common) == query
