"""A user's new name moves the data version of every project they belong to.

The analysis pages (the agreement page's pairs, the pace table, the methods section) and
the conflict queue print members' names and are cached per data version (migration 0005);
until now renaming a user left those pages showing the old name until something else in
the project changed. A row trigger on auth_user fires only when a name column changed."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION analysis_data_user_names() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM analysis_bump_data(ARRAY(
        SELECT project_id FROM annotate_membership WHERE user_id = NEW.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER analysis_data_user_names AFTER UPDATE ON auth_user
    FOR EACH ROW WHEN ((OLD.username, OLD.first_name, OLD.last_name)
        IS DISTINCT FROM (NEW.username, NEW.first_name, NEW.last_name))
    EXECUTE FUNCTION analysis_data_user_names();
"""

DROP = """
DROP TRIGGER IF EXISTS analysis_data_user_names ON auth_user;
DROP FUNCTION IF EXISTS analysis_data_user_names();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0006_rebuild_units_by_difference"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("annotate", "0012_release_metadata"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
