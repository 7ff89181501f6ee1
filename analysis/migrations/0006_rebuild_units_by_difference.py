"""`agreement_units --rebuild` changes only the units that differ from the labels.

The rebuild deleted every unit of the project and inserted them all again. On a table that
already held its rows, every insert then met the deleted row of the same key in the unique
index (agreement_unit_key) and had to visit the heap to see it was dead: at 500,000 items
(1,500,000 units) the rebuild ran for minutes where the same rebuild on an empty table took
about 20 s (issue #16). Now the units the labels imply are computed once into a temporary
table, units that are missing or differ are deleted, and only keys that are missing are
inserted, with hash joins in memory: a table that is already right is only read. The function returns how many units
it changed (a missing, differing or stale unit counts once).
"""

from django.db import migrations

COLUMNS = "dimension_id, item_id, record, m, lo, hi, calibration, discussed, batch, version, at"

FORWARD = f"""
CREATE OR REPLACE FUNCTION analysis_rebuild_units(project bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stale bigint;
    written bigint;
    saved_work_mem text := current_setting('work_mem');
    saved_nestloop text := current_setting('enable_nestloop');
BEGIN
    -- Hash joins in memory: a nested loop here re-reads a table for each of a million rows
    -- (and reads rows the INSERT below has just written).
    PERFORM set_config('work_mem', '256MB', true);
    PERFORM set_config('enable_nestloop', 'off', true);
    DROP TABLE IF EXISTS analysis_fresh_units;
    CREATE TEMP TABLE analysis_fresh_units ON COMMIT DROP AS
        SELECT {COLUMNS} FROM analysis_unit_source s
        WHERE project IS NULL OR s.project_id = project;
    ANALYZE analysis_fresh_units;
    ANALYZE analysis_agreementunit;
    -- Units of keys the labels no longer have: they count as changed.
    SELECT count(*) INTO stale FROM analysis_agreementunit u
    WHERE (project IS NULL OR u.item_id IN (SELECT id FROM annotate_item WHERE project_id = project))
      AND NOT EXISTS (SELECT 1 FROM analysis_fresh_units f WHERE f.dimension_id = u.dimension_id
                      AND f.item_id = u.item_id AND f.record = u.record);
    -- Every unit that is not exactly what the labels say goes ...
    DELETE FROM analysis_agreementunit u
    WHERE (project IS NULL OR u.item_id IN (SELECT id FROM annotate_item WHERE project_id = project))
      AND NOT EXISTS (
          SELECT 1 FROM analysis_fresh_units f
          WHERE f.dimension_id = u.dimension_id AND f.item_id = u.item_id AND f.record = u.record
            AND (f.m, f.lo, f.hi, f.calibration, f.discussed, f.batch, f.version, f.at)
                IS NOT DISTINCT FROM (u.m, u.lo, u.hi, u.calibration, u.discussed, u.batch,
                                      u.version, u.at));
    -- ... and every key now missing comes (back) in. The anti join hashes the table's keys
    -- before the first row is written.
    INSERT INTO analysis_agreementunit ({COLUMNS})
    SELECT {COLUMNS} FROM analysis_fresh_units f
    WHERE NOT EXISTS (SELECT 1 FROM analysis_agreementunit u WHERE u.dimension_id = f.dimension_id
                      AND u.item_id = f.item_id AND u.record = f.record);
    GET DIAGNOSTICS written = ROW_COUNT;
    DROP TABLE analysis_fresh_units;
    PERFORM set_config('work_mem', saved_work_mem, true);
    PERFORM set_config('enable_nestloop', saved_nestloop, true);
    RETURN written + stale;
END
$$;
"""

BACKWARD = f"""
CREATE OR REPLACE FUNCTION analysis_rebuild_units(project bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    written bigint;
BEGIN
    DELETE FROM analysis_agreementunit u WHERE project IS NULL OR u.item_id IN (
        SELECT id FROM annotate_item WHERE project_id = project);
    INSERT INTO analysis_agreementunit ({COLUMNS})
    SELECT {COLUMNS} FROM analysis_unit_source s WHERE project IS NULL OR s.project_id = project;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("analysis", "0005_speed_data_stamp")]

    operations = [migrations.RunPython(forward, backward)]
