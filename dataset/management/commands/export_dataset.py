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
        parser.add_argument("-o", "--output", metavar="FILE", help="default: standard output")

    def handle(self, *args, project, fmt, labels, output, **options):
        project_obj = Project.objects.filter(slug=project).first()
        if project_obj is None:
            raise CommandError(f"Project '{project}' does not exist.")
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
