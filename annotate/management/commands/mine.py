"""python manage.py mine OWNER/NAME [OWNER/NAME ...] --project SLUG [--api-url URL]

It lives in annotate, not mining: it may create the project (annotate's concern) before it
asks mining to crawl, and mining sits below annotate."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotate.errors import ServiceError
from annotate.projects.services import get_or_create_project
from mining import jobs
from mining.models import MiningJob, source_of


class Command(BaseCommand):
    help = (
        "Mine the issues, pull requests and comments of GitHub repositories into a project "
        "(token: the project's own when set, else GITHUB_TOKEN: an admin's command may use "
        "the server's token for any project)."
    )

    def add_arguments(self, parser):
        parser.add_argument("repositories", nargs="+", metavar="OWNER/NAME")
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--api-url", default="", help="GitHub API URL (Enterprise, emulator)")
        parser.add_argument(
            "--fixes",
            action="store_true",
            help="also fetch each issue's fix links: the pull requests and commits that close "
            "or reference it (GitHub's GraphQL API, 100 issues per query)",
        )
        parser.add_argument("--owner", default=None, help="create the project with this owner")
        parser.add_argument(
            "--name", default=None, help="the name of a project created here (default: its slug)"
        )

    def handle(self, *args, **options):
        api_url = options["api_url"] or settings.GITHUB_API_URL
        try:
            source = source_of(api_url)
            project = get_or_create_project(
                slug=options["project"], owner_username=options["owner"], name=options["name"]
            )
            # The repositories of the API mined: its data never shares a row with another's.
            repositories = [
                jobs.add_repository(project=project, full_name=name, source=source)
                for name in options["repositories"]
            ]
        except (ServiceError, jobs.MiningError, ValueError) as error:
            raise CommandError(str(error)) from None
        job = jobs.start_mining_job(
            project=project,
            repositories=repositories,
            api_url=api_url,
            dispatch=False,
            fixes=options["fixes"],
        )
        show = options["verbosity"] > 0
        bar = tqdm(desc="mining", unit=" issues", disable=not show, file=self.stderr._out)

        def on_page(*, issues, comments, requests):
            job_counts["comments"] += comments
            job_counts["requests"] += requests
            bar.update(issues)
            bar.set_postfix(comments=job_counts["comments"], requests=job_counts["requests"])

        job_counts = {"comments": 0, "requests": 0}
        try:
            job = jobs.run_job_sync(job=job, on_page=on_page)
        finally:
            bar.close()
        if job.status != MiningJob.Status.DONE:
            raise CommandError("Mining failed: " + " ".join(job.errors or [job.status]))
        if show:
            self.stdout.write(
                f"Mined {len(repositories)} repositories into '{project.slug}': "
                f"{job.issues} issues and pull requests, {job.comments} comments, "
                f"{job.requests} requests (job {job.pk})."
                + (
                    f" Fix links: {job.graphql_queries} GraphQL queries, "
                    f"{job.graphql_points} points."
                    if options["fixes"]
                    else ""
                )
            )
