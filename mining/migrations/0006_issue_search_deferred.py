"""Search documents built once per issue, not once per page that touches it.

Migration 0005's triggers recomputed an issue's whole document (title, body and every
comment, through to_tsvector) in the statement that stored each page of issues or
comments. A repository's comments arrive in a repository-wide list by update time, so an
issue with k comments was re-parsed about k times during a crawl: bench_mining's ingest
fell from 1,119 to 379 issues per second. Now the triggers only note the issue ids in
mining_issuesearch_pending (an upsert of ids), and `mining_refresh_pending_issue_search()`
builds each noted issue's document once: the crawl calls it when a task ends
(mining.jobs.run_task) and every search calls it first (annotate.browse.search), so a
search never misses what is stored, whichever path stored it (COPY and imports too).

Two refreshers never work on one issue: each takes its ids with DELETE ... RETURNING.
"""

from django.db import migrations

FORWARD = """
CREATE TABLE mining_issuesearch_pending (issue_id bigint PRIMARY KEY);

CREATE FUNCTION mining_note_issues(issues bigint[]) RETURNS void
LANGUAGE sql VOLATILE AS $$
    INSERT INTO mining_issuesearch_pending (issue_id)
    SELECT DISTINCT id FROM unnest(issues) AS id WHERE id IS NOT NULL
    ON CONFLICT (issue_id) DO NOTHING
$$;

CREATE FUNCTION mining_refresh_pending_issue_search() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    taken bigint[];
BEGIN
    WITH gone AS (DELETE FROM mining_issuesearch_pending RETURNING issue_id)
    SELECT array_agg(issue_id ORDER BY issue_id) INTO taken FROM gone;
    IF taken IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM mining_refresh_issue_search(taken);
    RETURN cardinality(taken);
END
$$;

CREATE OR REPLACE FUNCTION mining_issues_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_note_issues(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION mining_issues_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_note_issues(ARRAY(
        SELECT n.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE n.title IS DISTINCT FROM o.title OR n.body IS DISTINCT FROM o.body));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION mining_comments_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_note_issues(ARRAY(SELECT issue_id FROM new_rows));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION mining_comments_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_note_issues(ARRAY(
        SELECT n.issue_id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE n.body IS DISTINCT FROM o.body OR n.issue_id <> o.issue_id
        UNION
        SELECT o.issue_id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE n.issue_id <> o.issue_id));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION mining_comments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_note_issues(ARRAY(SELECT issue_id FROM old_rows));
    RETURN NULL;
END
$$;
"""

BACKWARD = """
CREATE OR REPLACE FUNCTION mining_issues_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_refresh_issue_search(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION mining_issues_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_refresh_issue_search(ARRAY(
        SELECT n.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE n.title IS DISTINCT FROM o.title OR n.body IS DISTINCT FROM o.body));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION mining_comments_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_refresh_issue_search(ARRAY(SELECT DISTINCT issue_id FROM new_rows));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION mining_comments_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_refresh_issue_search(ARRAY(
        SELECT n.issue_id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE n.body IS DISTINCT FROM o.body OR n.issue_id <> o.issue_id
        UNION
        SELECT o.issue_id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE n.issue_id <> o.issue_id));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION mining_comments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_refresh_issue_search(ARRAY(SELECT DISTINCT issue_id FROM old_rows));
    RETURN NULL;
END
$$;

SELECT mining_refresh_pending_issue_search();
DROP FUNCTION mining_refresh_pending_issue_search();
DROP FUNCTION mining_note_issues(bigint[]);
DROP TABLE mining_issuesearch_pending;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("mining", "0005_browse_issue_search")]

    operations = [migrations.RunPython(forward, backward)]
