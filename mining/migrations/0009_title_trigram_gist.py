"""Similar issues (issue #19, speed): the title door asks a GiST trigram index in distance
order instead of the GIN trigram index.

`title % q` on the GIN index walks the posting list of every trigram of q, and most
titles share the common ones (125 to 230 ms on 100,000 issues, docs/precedents.md); a
GiST index with gist_trgm_ops answers `ORDER BY title <-> q LIMIT k` (k nearest by
trigram distance, 1 - similarity) by descending the tree, reading a few pages. The GIN
index served only that door, so it goes.

PostgreSQL only, like 0008.
"""

from django.db import migrations

FORWARD = """
CREATE INDEX IF NOT EXISTS mining_issuesearch_title_gist
    ON mining_issuesearch USING gist (title gist_trgm_ops);
DROP INDEX IF EXISTS mining_issuesearch_title_trgm;
"""

BACKWARD = """
CREATE INDEX IF NOT EXISTS mining_issuesearch_title_trgm
    ON mining_issuesearch USING gin (title gin_trgm_ops);
DROP INDEX IF EXISTS mining_issuesearch_title_gist;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("mining", "0008_issue_similarity")]

    operations = [migrations.RunPython(forward, backward)]
