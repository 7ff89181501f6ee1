"""PostgreSQL triggers that keep analysis_agreementunit equal to what the labels say.

New labels fold into their units with an upsert. Any other statement that changes labels,
an annotation's time or codebook version, or an item's calibration, discussed or batch
refreshes the units of the items it touched: the units are recomputed from the labels
(idempotent), after taking the items' row locks in id order so that two transactions
changing one item's labels recompute one after the other, the second seeing the first's. Other databases get nothing: the
report counts the labels themselves there.
"""

from django.db import migrations

REFRESH = """
CREATE VIEW analysis_unit_source AS
SELECT l.dimension_id, l.item_id, l.record, count(*) AS m,
    min((l.annotator_id::bigint << 32) | l.category_id) AS lo,
    max((l.annotator_id::bigint << 32) | l.category_id) AS hi,
    i.calibration, i.discussed, i.batch, max(a.codebook_version) AS version,
    max(a.created_at) AS at, i.project_id
FROM annotate_annotationlabel l
JOIN annotate_item i ON i.id = l.item_id
JOIN annotate_annotation a ON a.id = l.annotation_id
GROUP BY l.dimension_id, l.item_id, l.record, i.calibration, i.discussed, i.batch, i.project_id;

CREATE OR REPLACE FUNCTION analysis_refresh_units(items bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF items IS NULL OR cardinality(items) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM annotate_item WHERE id = ANY(items) ORDER BY id FOR UPDATE;
    DELETE FROM analysis_agreementunit WHERE item_id = ANY(items);
    INSERT INTO analysis_agreementunit
        (dimension_id, item_id, record, m, lo, hi, calibration, discussed, batch, version, at)
    SELECT dimension_id, item_id, record, m, lo, hi, calibration, discussed, batch, version, at
    FROM analysis_unit_source WHERE item_id = ANY(items);
END
$$;

-- Maintenance (a bulk load with triggers off, or a check): recompute one project's units,
-- or every project's with NULL. Takes no row locks: run it when nobody is labeling.
CREATE OR REPLACE FUNCTION analysis_rebuild_units(project bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    written bigint;
BEGIN
    DELETE FROM analysis_agreementunit u WHERE project IS NULL OR u.item_id IN (
        SELECT id FROM annotate_item WHERE project_id = project);
    INSERT INTO analysis_agreementunit
        (dimension_id, item_id, record, m, lo, hi, calibration, discussed, batch, version, at)
    SELECT dimension_id, item_id, record, m, lo, hi, calibration, discussed, batch, version, at
    FROM analysis_unit_source s WHERE project IS NULL OR s.project_id = project;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;

-- The transition tables a statement trigger gets: new rows (insert, update), old rows
-- (update, delete). New labels (every submission) only add to their units: count, min,
-- max and the latest version and time fold in with an upsert, which needs no item lock
-- (concurrent upserts of one unit apply one after the other to its newest version).
-- Deleted or changed labels recompute their items' units from the labels.
CREATE OR REPLACE FUNCTION analysis_labels_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO analysis_agreementunit AS u
            (dimension_id, item_id, record, m, lo, hi, calibration, discussed, batch, version, at)
        SELECT n.dimension_id, n.item_id, n.record, count(*),
            min((n.annotator_id::bigint << 32) | n.category_id),
            max((n.annotator_id::bigint << 32) | n.category_id),
            i.calibration, i.discussed, i.batch, max(a.codebook_version), max(a.created_at)
        FROM new_rows n
        JOIN annotate_item i ON i.id = n.item_id
        JOIN annotate_annotation a ON a.id = n.annotation_id
        GROUP BY n.dimension_id, n.item_id, n.record, i.calibration, i.discussed, i.batch
        ON CONFLICT (dimension_id, item_id, record) DO UPDATE SET
            m = u.m + excluded.m, lo = least(u.lo, excluded.lo), hi = greatest(u.hi, excluded.hi),
            calibration = excluded.calibration, discussed = excluded.discussed,
            batch = excluded.batch, version = greatest(u.version, excluded.version),
            at = greatest(u.at, excluded.at);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM analysis_refresh_units(ARRAY(SELECT DISTINCT item_id FROM old_rows));
    ELSE
        PERFORM analysis_refresh_units(ARRAY(
            SELECT item_id FROM new_rows UNION SELECT item_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION analysis_row_item_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'annotate_item' THEN
        PERFORM analysis_refresh_units(ARRAY[NEW.id]);
    ELSE
        PERFORM analysis_refresh_units(ARRAY[NEW.item_id, OLD.item_id]);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER analysis_units_on_label_insert AFTER INSERT ON annotate_annotationlabel
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analysis_labels_changed();
CREATE TRIGGER analysis_units_on_label_delete AFTER DELETE ON annotate_annotationlabel
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analysis_labels_changed();
CREATE TRIGGER analysis_units_on_label_update AFTER UPDATE ON annotate_annotationlabel
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analysis_labels_changed();
-- Row triggers with a WHEN clause: the queue's and submissions' own updates of these rows
-- (counters, states) never call a function.
CREATE TRIGGER analysis_units_on_item_update AFTER UPDATE ON annotate_item
    FOR EACH ROW WHEN (OLD.calibration IS DISTINCT FROM NEW.calibration
        OR OLD.discussed IS DISTINCT FROM NEW.discussed OR OLD.batch IS DISTINCT FROM NEW.batch)
    EXECUTE FUNCTION analysis_row_item_changed();
CREATE TRIGGER analysis_units_on_annotation_update AFTER UPDATE ON annotate_annotation
    FOR EACH ROW WHEN (OLD.codebook_version IS DISTINCT FROM NEW.codebook_version
        OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.item_id IS DISTINCT FROM NEW.item_id)
    EXECUTE FUNCTION analysis_row_item_changed();
"""

BACKFILL = "SELECT analysis_rebuild_units(NULL);"

DROP = """
DROP TRIGGER IF EXISTS analysis_units_on_label_insert ON annotate_annotationlabel;
DROP TRIGGER IF EXISTS analysis_units_on_label_delete ON annotate_annotationlabel;
DROP TRIGGER IF EXISTS analysis_units_on_label_update ON annotate_annotationlabel;
DROP TRIGGER IF EXISTS analysis_units_on_item_update ON annotate_item;
DROP TRIGGER IF EXISTS analysis_units_on_annotation_update ON annotate_annotation;
DROP FUNCTION IF EXISTS analysis_labels_changed();
DROP FUNCTION IF EXISTS analysis_row_item_changed();
DROP FUNCTION IF EXISTS analysis_refresh_units(bigint[]);
DROP FUNCTION IF EXISTS analysis_rebuild_units(bigint);
DROP VIEW IF EXISTS analysis_unit_source;
DELETE FROM analysis_agreementunit;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFRESH)
        schema_editor.execute(BACKFILL)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0001_agreement_unit"),
        ("annotate", "0004_indexes_for_queue_and_agreement"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
