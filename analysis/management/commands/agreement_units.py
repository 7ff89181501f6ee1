"""Check or rebuild the agreement report's unit summary (PostgreSQL): after a bulk load that
bypassed triggers, or to verify that nothing did."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from analysis.agreement import rebuild_units, units_out_of_sync
from annotate.models import Project


class Command(BaseCommand):
    help = (
        "Count the agreement units that differ from the labels (--check, exit 1 if any) or "
        "recompute them (--rebuild), for one project (--project SLUG) or all."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--check", action="store_true", help="Report differences.")
        action.add_argument("--rebuild", action="store_true", help="Recompute the units.")
        parser.add_argument("--project", help="A project's slug (default: every project).")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "Agreement units are kept on PostgreSQL only; on "
                f"{connection.vendor} the report counts the labels directly."
            )
        project = None
        if options["project"]:
            project = Project.objects.filter(slug=options["project"]).first()
            if project is None:
                raise CommandError(f"No project with the slug '{options['project']}'.")
        scope = f"project '{project.slug}'" if project else "every project"
        if options["rebuild"]:
            written = rebuild_units(project)
            self.stdout.write(
                f"{written} agreement unit(s) changed to match the labels for {scope}."
            )
            return
        differing = units_out_of_sync(project)
        if differing:
            raise CommandError(
                f"{differing} agreement unit(s) differ from the labels for {scope}; "
                "run with --rebuild."
            )
        self.stdout.write(f"Agreement units match the labels for {scope}.")
