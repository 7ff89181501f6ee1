"""Similar issues and near-duplicates (issue #19): three more parts of an issue's search row,
built by the same deferred refresh as its document (migration 0006).

- `title`: the title in lower case, GIN-indexed with pg_trgm's trigram operator class, for
  near-identical titles (trigram similarity ignores word order: a reworded title that
  keeps its words still scores high).
- `failure_lines`: the lines of fenced code blocks and the stack-trace and error lines of
  the title and body (`Traceback`, `File "..."`, `at pkg.Class(...)`, `...Error:`), as a
  tsvector under the 'simple' configuration (identifiers kept whole, no stemming), so two
  reports of the same failure share them whatever their prose says.
- `error_line`: the first error-message line (`SomeError: message`, `error: ...`,
  `panic: ...`), normalised (numbers, hex addresses and quoted paths blanked, lower case),
  btree-indexed: the same error message finds the same failure by equality.

PostgreSQL only (SQLite under `make run` has no similar-issue lookup: mining.similarity
says so).
"""

from django.db import migrations

FORWARD = r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE mining_issuesearch
    ADD COLUMN title text NOT NULL DEFAULT '',
    ADD COLUMN error_line text NOT NULL DEFAULT '',
    ADD COLUMN failure_lines tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX mining_issuesearch_title_trgm ON mining_issuesearch USING gin (title gin_trgm_ops);
CREATE INDEX mining_issuesearch_error_line ON mining_issuesearch (error_line)
    WHERE error_line <> '';
CREATE INDEX mining_issuesearch_failure_lines ON mining_issuesearch USING gin (failure_lines);

-- Lines inside ``` or ~~~ fences, and stack-trace or error lines anywhere (at most 300).
CREATE FUNCTION mining_failure_lines(body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(line, E'\n' ORDER BY n), '') FROM (
        SELECT line, n FROM (
            SELECT line, n, sum(CASE WHEN line ~ '^\s*(```|~~~)' THEN 1 ELSE 0 END)
                OVER (ORDER BY n) AS fences
            FROM regexp_split_to_table(left(coalesce(body, ''), 100000), E'\r?\n')
                WITH ORDINALITY AS t(line, n)
        ) AS marked
        WHERE (mod(fences, 2) = 1 AND line !~ '^\s*(```|~~~)')
           OR line ~ '(Traceback \(most recent call last\)|^\s*File "|^\s+at [\w$.<>]+\(|[A-Za-z]\w*(Error|Exception|Fault)\M|^\s*(error|fatal|panic)(\[\w+\])?:)'
        ORDER BY n LIMIT 300
    ) AS kept
$$;

-- Jaccard's coefficient of two lexeme sets (0 when either is empty): a || b merges the
-- sorted lexeme arrays in C, so |A ∪ B| = length(a || b) and |A ∩ B| = |A| + |B| - |A ∪ B|.
CREATE FUNCTION mining_lexeme_jaccard(a tsvector, b tsvector) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(a) = 0 OR length(b) = 0 THEN 0::float8
        ELSE (length(a) + length(b) - length(a || b))::float8 / length(a || b) END
$$;

-- The one score of two issues' parts (mining.similarity.combine is its Python twin):
-- 0.4 title + 0.6 trace when both carry failure lines or an error line, else the title's;
-- trace is 1 for the same error message, else 0.6 x the failure lines' Jaccard.
CREATE FUNCTION mining_similarity_score(
    title_a text, title_b text, lines_a tsvector, lines_b tsvector, error_a text, error_b text
) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT round((CASE
        WHEN (lines_a <> ''::tsvector OR error_a <> '') AND (lines_b <> ''::tsvector OR error_b <> '')
        THEN 0.4 * similarity(title_a, title_b) + 0.6 * greatest(
            0.6 * mining_lexeme_jaccard(lines_a, lines_b),
            CASE WHEN error_a <> '' AND error_a = error_b THEN 1 ELSE 0 END)
        ELSE similarity(title_a, title_b) END)::numeric, 4)::float8
$$;

-- The first error-message line of `text`, normalised; '' when there is none.
CREATE FUNCTION mining_error_line(text text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce((
        SELECT left(btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
            lower(m[1]),
            '(''|")[^''"]*[/\\][^''"]*(''|")', '?', 'g'),
            '0x[0-9a-f]+', '0x', 'g'),
            '\m[0-9]+(\.[0-9]+)?\M', '0', 'g'),
            '\s+', ' ', 'g')), 200)
        FROM regexp_matches(left(coalesce(text, ''), 100000),
            '(?:^|\n)\s*((?:[A-Za-z_][\w.]*(?:Error|Exception)|error|fatal|panic)(?:\[\w+\])?:[^\n]*\w[^\n]*)',
            '') AS m
        LIMIT 1), '')
$$;

CREATE OR REPLACE FUNCTION mining_refresh_issue_search(issues bigint[]) RETURNS void
LANGUAGE sql VOLATILE AS $$
    INSERT INTO mining_issuesearch AS s (issue_id, document, title, error_line, failure_lines)
    SELECT i.id, mining_search_document(i.title, i.body, (
        SELECT left(string_agg(c.body, E'\\n' ORDER BY c.id), 200000)
        FROM mining_comment AS c WHERE c.issue_id = i.id)),
        lower(left(coalesce(i.title, ''), 300)),
        mining_error_line(coalesce(i.title, '') || E'\n' || coalesce(i.body, '')),
        to_tsvector('simple'::regconfig,
            mining_failure_lines(coalesce(i.title, '') || E'\n' || coalesce(i.body, '')))
    FROM mining_issue AS i WHERE i.id = ANY(issues)
    ON CONFLICT (issue_id) DO UPDATE SET document = excluded.document, title = excluded.title,
        error_line = excluded.error_line, failure_lines = excluded.failure_lines
$$;

CREATE OR REPLACE FUNCTION mining_rebuild_issue_search() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    written bigint;
BEGIN
    INSERT INTO mining_issuesearch AS s (issue_id, document, title, error_line, failure_lines)
    SELECT i.id, mining_search_document(i.title, i.body, c.text),
        lower(left(coalesce(i.title, ''), 300)),
        mining_error_line(coalesce(i.title, '') || E'\n' || coalesce(i.body, '')),
        to_tsvector('simple'::regconfig,
            mining_failure_lines(coalesce(i.title, '') || E'\n' || coalesce(i.body, '')))
    FROM mining_issue AS i LEFT JOIN (
        SELECT issue_id, left(string_agg(body, E'\\n' ORDER BY id), 200000) AS text
        FROM mining_comment GROUP BY issue_id) AS c ON c.issue_id = i.id
    ON CONFLICT (issue_id) DO UPDATE SET document = excluded.document, title = excluded.title,
        error_line = excluded.error_line, failure_lines = excluded.failure_lines;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;

SELECT mining_note_issues(ARRAY(SELECT id FROM mining_issue));
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION mining_refresh_issue_search(issues bigint[]) RETURNS void
LANGUAGE sql VOLATILE AS $$
    INSERT INTO mining_issuesearch AS s (issue_id, document)
    SELECT i.id, mining_search_document(i.title, i.body, (
        SELECT left(string_agg(c.body, E'\\n' ORDER BY c.id), 200000)
        FROM mining_comment AS c WHERE c.issue_id = i.id))
    FROM mining_issue AS i WHERE i.id = ANY(issues)
    ON CONFLICT (issue_id) DO UPDATE SET document = excluded.document
$$;

CREATE OR REPLACE FUNCTION mining_rebuild_issue_search() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    written bigint;
BEGIN
    INSERT INTO mining_issuesearch AS s (issue_id, document)
    SELECT i.id, mining_search_document(i.title, i.body, c.text)
    FROM mining_issue AS i LEFT JOIN (
        SELECT issue_id, left(string_agg(body, E'\\n' ORDER BY id), 200000) AS text
        FROM mining_comment GROUP BY issue_id) AS c ON c.issue_id = i.id
    ON CONFLICT (issue_id) DO UPDATE SET document = excluded.document;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;

DROP FUNCTION IF EXISTS mining_similarity_score(text, text, tsvector, tsvector, text, text);
DROP FUNCTION IF EXISTS mining_error_line(text);
DROP FUNCTION IF EXISTS mining_lexeme_jaccard(tsvector, tsvector);
DROP FUNCTION IF EXISTS mining_failure_lines(text);
ALTER TABLE mining_issuesearch DROP COLUMN IF EXISTS title,
    DROP COLUMN IF EXISTS error_line, DROP COLUMN IF EXISTS failure_lines;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("mining", "0007_fix_links")]

    operations = [migrations.RunPython(forward, backward)]
