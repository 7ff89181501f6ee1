from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotate.projects import services
from dataset.formats import FORMATS
from dataset.importing import ImportFailed, collect_sources, group_rule, import_dataset


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
            "--group",
            metavar="owner|family|NAME",
            help="the group of repositories new to the project: their GitHub owner (the "
            "default), their model family (deepseek-ai -> DeepSeek), or one group NAME",
        )
        parser.add_argument(
            "--group-map",
            metavar="OWNER/NAME=GROUP,...",
            help="the groups of these repositories (new or not), over --group",
        )
        parser.add_argument(
            "--group-map-file",
            metavar="PATH",
            help="the same map in a file: OWNER/NAME=GROUP lines, or a JSON object",
        )

    def handle(self, *args, paths, project, fmt, labels, owner, add_categories, group, **opts):
        try:
            group_map = self._group_map(opts["group_map"], opts["group_map_file"])
            group_rule(group, group_map)  # refused before the project is created
            sources = collect_sources(paths, fmt)
            # One transaction: a project created here is gone again when the import fails.
            with transaction.atomic():
                project_obj = services.get_or_create_project(slug=project, owner_username=owner)
                result = import_dataset(
                    project=project_obj,
                    sources=sources,
                    fmt=fmt,
                    labels=labels,
                    add_categories=add_categories,
                    group=group,
                    group_map=group_map,
                )
        except services.ServiceError as error:
            raise CommandError(f"Nothing imported. {error}") from error
        verb = "Imported" if result.changed else "Already imported, nothing changed"
        self.stdout.write(f"{verb}: {result.summary()}")

    @staticmethod
    def _group_map(inline: str | None, path: str | None) -> str:
        if inline and path:
            raise ImportFailed("Give --group-map or --group-map-file, not both.")
        if not path:
            return inline or ""
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ImportFailed(f"{path}: cannot read the group map ({error}).") from None
