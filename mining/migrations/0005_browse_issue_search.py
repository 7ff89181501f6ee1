"""Full-text search over issues (issue #15, the item browser): one tsvector per issue in
mining_issuesearch, GIN-indexed, kept current by statement triggers on mining_issue and
mining_comment (with transition tables, so a page of 100 upserted issues or comments is
one refresh, and COPY, the importer and the ORM are covered alike).

The document is setweight(title, 'A') || setweight(body, 'B') || setweight(comments, 'C')
under the 'english' configuration. Each part is cut to a length (title 1,000 characters,
body 100,000, comments 200,000 together) so that no document can pass PostgreSQL's 1 MB
limit of a tsvector, which would make the miner's statement fail. Other databases
(SQLite under `make run`) get the table alone, empty: the browser searches there with a
plain substring match. The table is a managed model so that Django's flush (transactional
tests) truncates it together with mining_issue, which it references.
"""

from django.db import migrations, models
from django.contrib.postgres.search import SearchVectorField

FORWARD = """
-- The row goes with its issue, whichever way the issue is deleted (Django leaves it
-- to the database: on_delete=DO_NOTHING, no constraint of its own).
ALTER TABLE mining_issuesearch ADD CONSTRAINT mining_issuesearch_issue_fkey
    FOREIGN KEY (issue_id) REFERENCES mining_issue (id) ON DELETE CASCADE;
CREATE INDEX mining_issuesearch_document ON mining_issuesearch USING gin (document);
-- A document that goes out of line (past about 2 kB) is stored uncompressed: ranking
-- reads every matching document, and decompressing each would cost more than the disk.
ALTER TABLE mining_issuesearch ALTER COLUMN document SET STORAGE EXTERNAL;

CREATE FUNCTION mining_search_document(title text, body text, comments text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english'::regconfig, left(coalesce(title, ''), 1000)), 'A')
        || setweight(to_tsvector('english'::regconfig, left(coalesce(body, ''), 100000)), 'B')
        || setweight(to_tsvector('english'::regconfig, left(coalesce(comments, ''), 200000)), 'C')
$$;

-- The documents of `issues` recomputed from their stored text (idempotent). Issues that
-- no longer exist are skipped (a comment deleted with its issue).
CREATE FUNCTION mining_refresh_issue_search(issues bigint[]) RETURNS void
LANGUAGE sql VOLATILE AS $$
    INSERT INTO mining_issuesearch AS s (issue_id, document)
    SELECT i.id, mining_search_document(i.title, i.body, (
        SELECT left(string_agg(c.body, E'\\n' ORDER BY c.id), 200000)
        FROM mining_comment AS c WHERE c.issue_id = i.id))
    FROM mining_issue AS i WHERE i.id = ANY(issues)
    ON CONFLICT (issue_id) DO UPDATE SET document = excluded.document
$$;

-- Maintenance after a load with triggers off: every document, in one statement.
CREATE FUNCTION mining_rebuild_issue_search() RETURNS bigint
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

CREATE FUNCTION mining_issues_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_refresh_issue_search(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END
$$;

CREATE FUNCTION mining_issues_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_refresh_issue_search(ARRAY(
        SELECT n.id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
        WHERE n.title IS DISTINCT FROM o.title OR n.body IS DISTINCT FROM o.body));
    RETURN NULL;
END
$$;

CREATE FUNCTION mining_comments_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_refresh_issue_search(ARRAY(SELECT DISTINCT issue_id FROM new_rows));
    RETURN NULL;
END
$$;

CREATE FUNCTION mining_comments_updated() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE FUNCTION mining_comments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM mining_refresh_issue_search(ARRAY(SELECT DISTINCT issue_id FROM old_rows));
    RETURN NULL;
END
$$;

CREATE TRIGGER mining_issue_search_insert AFTER INSERT ON mining_issue
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mining_issues_inserted();
CREATE TRIGGER mining_issue_search_update AFTER UPDATE ON mining_issue
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mining_issues_updated();
CREATE TRIGGER mining_comment_search_insert AFTER INSERT ON mining_comment
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mining_comments_inserted();
CREATE TRIGGER mining_comment_search_update AFTER UPDATE ON mining_comment
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mining_comments_updated();
CREATE TRIGGER mining_comment_search_delete AFTER DELETE ON mining_comment
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mining_comments_deleted();

SELECT mining_rebuild_issue_search();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS mining_issue_search_insert ON mining_issue;
DROP TRIGGER IF EXISTS mining_issue_search_update ON mining_issue;
DROP TRIGGER IF EXISTS mining_comment_search_insert ON mining_comment;
DROP TRIGGER IF EXISTS mining_comment_search_update ON mining_comment;
DROP TRIGGER IF EXISTS mining_comment_search_delete ON mining_comment;
DROP FUNCTION IF EXISTS mining_issues_inserted();
DROP FUNCTION IF EXISTS mining_issues_updated();
DROP FUNCTION IF EXISTS mining_comments_inserted();
DROP FUNCTION IF EXISTS mining_comments_updated();
DROP FUNCTION IF EXISTS mining_comments_deleted();
DROP FUNCTION IF EXISTS mining_rebuild_issue_search();
DROP FUNCTION IF EXISTS mining_refresh_issue_search(bigint[]);
DROP FUNCTION IF EXISTS mining_search_document(text, text, text);
DROP INDEX IF EXISTS mining_issuesearch_document;
ALTER TABLE mining_issuesearch DROP CONSTRAINT IF EXISTS mining_issuesearch_issue_fkey;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):

    dependencies = [
        ("mining", "0004_repository_private_and_project_fetched_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="IssueSearch",
            fields=[
                (
                    "issue",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="search",
                        serialize=False,
                        to="mining.issue",
                    ),
                ),
                ("document", SearchVectorField()),
            ],
            options={"db_table": "mining_issuesearch"},
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
