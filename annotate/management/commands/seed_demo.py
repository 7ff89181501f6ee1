import os

from django.core.management.base import BaseCommand

from annotate.demo import seed_demo


class Command(BaseCommand):
    help = "Create (or complete) the demo project with the study's codebook, users and labels."

    def add_arguments(self, parser):
        parser.add_argument("--per-repository", type=int, default=30)
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", "faultline-demo"),
            help="password of every demo user (DEMO_PASSWORD); for a local demo only",
        )

    def handle(self, *args, per_repository, password, **options):
        summary = seed_demo(password=password, per_repository=per_repository)
        self.stdout.write(
            f"Demo project '{summary.project.name}' ({summary.project.slug}): "
            f"{summary.items} items, {summary.labeled} new annotations."
        )
        self.stdout.write("Demo logins (username / role / password):")
        for username, role, pw in summary.logins:
            self.stdout.write(f"  {username:<8} {role:<10} {pw}")
