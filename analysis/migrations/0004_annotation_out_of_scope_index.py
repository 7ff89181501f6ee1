"""A partial index on the annotations out of scope (few), which the agreement report reads
for its scope row and to find the items it pairs in Python. It lives here, beside the
report that needs it, as plain SQL: the annotate app's models do not declare it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0003_agreement_unit_not_simple_index"),
        ("annotate", "0004_indexes_for_queue_and_agreement"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS analysis_annotation_out_of_scope "
            "ON annotate_annotation (item_id) WHERE out_of_scope",
            "DROP INDEX IF EXISTS analysis_annotation_out_of_scope",
        )
    ]
