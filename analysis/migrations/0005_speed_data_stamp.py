"""A data version per project (analysis.models.DataStamp), kept by PostgreSQL statement
triggers so that every write path bumps it: services, imports (COPY and batched inserts),
the agreement triggers' own tables' sources, codebook edits, bulk SQL.

Each trigger collects the projects its statement touched from the transition tables and
adds 1 to one slot of each project (the writing connection's pid modulo 16), in project
order. Updates of an item bump only when a column the analysis reads changed, so the
queue's own updates of its counters write nothing here. Other databases get nothing."""

from django.db import migrations, models

SLOTS = 16

# Tables whose rows carry project_id, item_id (-> annotate_item) or dimension_id
# (-> annotate_dimension).
BY_PROJECT = [
    "annotate_dimension",
    "annotate_membership",
    "annotate_codebookchange",
    "annotate_conflict",
    "annotate_auditevent",
    "mining_projectrepository",
]
BY_ITEM = [
    "annotate_annotation",
    "annotate_annotationlabel",
    "annotate_finallabel",
    "annotate_finalrecordlabel",
    "annotate_annotationround",
    "annotate_annotationroundlabel",
]
BY_DIMENSION = ["annotate_category"]
# The item columns the analysis pages read (the queue's counters are not among them).
ITEM_COLUMNS = "project_id, issue_id, state, position, calibration, batch, discussed, metadata"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION analysis_bump_data(projects bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF projects IS NULL OR cardinality(projects) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO analysis_datastamp AS s (project_id, slot, n)
    SELECT p, mod(pg_backend_pid(), {SLOTS}), 1
    FROM (SELECT DISTINCT p FROM unnest(projects) AS p WHERE p IS NOT NULL) d
    ORDER BY p
    ON CONFLICT (project_id, slot) DO UPDATE SET n = s.n + 1;
END
$$;

CREATE OR REPLACE FUNCTION analysis_data_by_project() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM analysis_bump_data(ARRAY(SELECT project_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM analysis_bump_data(ARRAY(SELECT project_id FROM old_rows));
    ELSE
        PERFORM analysis_bump_data(ARRAY(
            SELECT project_id FROM new_rows UNION SELECT project_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

-- Deleted rows of a deleted item (a cascade) find no item: the item's own delete bumps.
CREATE OR REPLACE FUNCTION analysis_data_by_item() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM analysis_bump_data(ARRAY(
            SELECT i.project_id FROM annotate_item i
            WHERE i.id IN (SELECT item_id FROM new_rows)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM analysis_bump_data(ARRAY(
            SELECT i.project_id FROM annotate_item i
            WHERE i.id IN (SELECT item_id FROM old_rows)));
    ELSE
        PERFORM analysis_bump_data(ARRAY(
            SELECT i.project_id FROM annotate_item i WHERE i.id IN (
                SELECT item_id FROM new_rows UNION SELECT item_id FROM old_rows)));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION analysis_data_by_dimension() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM analysis_bump_data(ARRAY(
            SELECT d.project_id FROM annotate_dimension d
            WHERE d.id IN (SELECT dimension_id FROM new_rows)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM analysis_bump_data(ARRAY(
            SELECT d.project_id FROM annotate_dimension d
            WHERE d.id IN (SELECT dimension_id FROM old_rows)));
    ELSE
        PERFORM analysis_bump_data(ARRAY(
            SELECT d.project_id FROM annotate_dimension d WHERE d.id IN (
                SELECT dimension_id FROM new_rows UNION SELECT dimension_id FROM old_rows)));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION analysis_data_items() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM analysis_bump_data(ARRAY(SELECT project_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM analysis_bump_data(ARRAY(SELECT project_id FROM old_rows));
    ELSE
        PERFORM analysis_bump_data(ARRAY(
            SELECT n.project_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE ({", ".join("n." + c for c in ITEM_COLUMNS.split(", "))})
                IS DISTINCT FROM ({", ".join("o." + c for c in ITEM_COLUMNS.split(", "))})
            UNION
            SELECT o.project_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.project_id IS DISTINCT FROM o.project_id));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION analysis_data_project() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM analysis_bump_data(ARRAY[NEW.id]);
    RETURN NULL;
END
$$;
"""


def _statement_triggers(table: str, function: str) -> str:
    name = f"analysis_data_{table.split('_', 1)[1]}"
    return f"""
CREATE TRIGGER {name}_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {name}_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {name}_upd AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


TABLES = (
    [(t, "analysis_data_by_project") for t in BY_PROJECT]
    + [(t, "analysis_data_by_item") for t in BY_ITEM]
    + [(t, "analysis_data_by_dimension") for t in BY_DIMENSION]
    + [("annotate_item", "analysis_data_items")]
)

TRIGGERS = "".join(_statement_triggers(t, f) for t, f in TABLES) + """
-- A project's settings (names hidden, codebook version, overlap) change what the pages say.
CREATE TRIGGER analysis_data_project_upd AFTER UPDATE ON annotate_project
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION analysis_data_project();
"""

DROP = (
    "".join(
        f"DROP TRIGGER IF EXISTS analysis_data_{t.split('_', 1)[1]}_{op} ON {t};\n"
        for t, _ in TABLES
        for op in ("ins", "del", "upd")
    )
    + """
DROP TRIGGER IF EXISTS analysis_data_project_upd ON annotate_project;
DROP FUNCTION IF EXISTS analysis_data_project();
DROP FUNCTION IF EXISTS analysis_data_items();
DROP FUNCTION IF EXISTS analysis_data_by_dimension();
DROP FUNCTION IF EXISTS analysis_data_by_item();
DROP FUNCTION IF EXISTS analysis_data_by_project();
DROP FUNCTION IF EXISTS analysis_bump_data(bigint[]);
"""
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS)
        schema_editor.execute(TRIGGERS)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0004_annotation_out_of_scope_index"),
        ("annotate", "0008_import_job"),
        ("mining", "0004_repository_private_and_project_fetched_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="DataStamp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("project_id", models.BigIntegerField()),
                ("slot", models.PositiveSmallIntegerField()),
                ("n", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("project_id", "slot"), name="data_stamp_key"
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
