from django.core.management.base import BaseCommand, CommandError

from annotate.projects import services
from dataset.formats import FORMATS
from dataset.importing import collect_sources, import_dataset


class Command(BaseCommand):
    help = (
        "Import labeled failure records (the study's olf format, JSONL or CSV) from files or "
        "folders (searched recursively). All or nothing; importing again changes nothing."
    )
    # The system checks load every URL and view (numpy, scipy, matplotlib: 130 MB) that an
    # import never uses; `manage.py check` runs them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--format", default="olf", choices=FORMATS, dest="fmt")
        parser.add_argument(
            "--labels",
            default="final",
            metavar="final|none|annotator:USERNAME",
            help="write final labels (provenance 'imported'), one member's annotations, "
            "or items only",
        )
        parser.add_argument(
            "--owner", metavar="USERNAME", help="create the project with this owner if missing"
        )
        parser.add_argument(
            "--add-categories",
            action="store_true",
            help="add categories missing from the codebook instead of failing",
        )
        parser.add_argument(
            "--group", help="the group of new repositories (default: the GitHub owner)"
        )

    def handle(self, *args, paths, project, fmt, labels, owner, add_categories, group, **opts):
        try:
            sources = collect_sources(paths, fmt)
            project_obj = services.get_or_create_project(slug=project, owner_username=owner)
            result = import_dataset(
                project=project_obj,
                sources=sources,
                fmt=fmt,
                labels=labels,
                add_categories=add_categories,
                group=group,
            )
        except services.ServiceError as error:
            raise CommandError(f"Nothing imported. {error}") from error
        verb = "Imported" if result.changed else "Already imported, nothing changed"
        self.stdout.write(f"{verb}: {result.summary()}")
