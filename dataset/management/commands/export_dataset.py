from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotate.models import Project
from dataset.exporting import LABEL_CHOICES, stream_export
from dataset.formats import FORMATS


class Command(BaseCommand):
    help = "Write a project's dataset (final labels, or every annotator's beside them)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
        parser.add_argument("--labels", default="final", choices=LABEL_CHOICES)
        parser.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help="default: standard output (a folder for --layout)",
        )
        parser.add_argument(
            "--layout",
            choices=["study"],
            help="study: olf files per model under group folders, as the study's repository "
            "holds them (final labels; -o names the folder)",
        )

    def handle(self, *args, project, fmt, labels, output, layout, **options):
        project_obj = Project.objects.filter(slug=project).first()
        if project_obj is None:
            raise CommandError(f"Project '{project}' does not exist.")
        if layout:
            self._study_layout(project_obj, fmt, labels, output)
            return
        chunks = stream_export(project_obj, fmt, labels)
        if not output:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from error
        self.stderr.write(f"Wrote {output}")

    def _study_layout(self, project, fmt, labels, output):
        from dataset.study_layout import write_study_layout

        if fmt != "olf" or labels != "final":
            raise CommandError("--layout study writes final labels as olf: use --format olf.")
        if not output:
            raise CommandError("--layout study writes a folder: name it with -o DIR.")
        folder = Path(output)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise CommandError(f"{folder} exists and is not an empty folder.")
        try:
            written = write_study_layout(project, folder)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from error
        self.stderr.write(f"Wrote {len(written)} files under {folder}")
