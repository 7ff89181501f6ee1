"""The similar-issue lookup's title door by words (issue #19's speed goal): a GIN index on
the English lexemes of an issue's search-row title (`mining_issuesearch.title`, lower
case, kept current by the deferred refresh of migration 0006), so that the lookup finds
the issues sharing a title's words by their posting lists instead of walking the trigram
index (whose `%` scan on 100,000 bench titles visits nearly every title: p95 over 200 ms).
An expression index: no new column, and the refresh functions are unchanged.

PostgreSQL only, as migration 0008.
"""

from django.db import migrations

FORWARD = """
CREATE INDEX mining_issuesearch_title_words ON mining_issuesearch
    USING gin (to_tsvector('english'::regconfig, title));
"""

BACKWARD = "DROP INDEX IF EXISTS mining_issuesearch_title_words;"


def on_postgresql(sql: str):
    """A migration step running `sql` on PostgreSQL only (SQLite has no lookup)."""

    def step(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return step


class Migration(migrations.Migration):
    dependencies = [("mining", "0009_fix_link_repository")]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
