from django.core.management.base import BaseCommand, CommandError

from annotate.models import Role
from annotate.projects import services


class Command(BaseCommand):
    help = "Add people to a project with a role, creating missing users (prints their passwords)."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+", metavar="USERNAME")
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--owner", metavar="USERNAME", help="create the project with this owner if missing"
        )

    def handle(self, *args, usernames, project, role, owner, **options):
        try:
            if owner:
                _, new_owner = services.ensure_user(username=owner)
                if new_owner:
                    self.stdout.write(
                        f"{owner}: created as owner; one-time password: {new_owner.password}"
                    )
            project_obj = services.get_or_create_project(slug=project, owner_username=owner)
            for username in usernames:
                created = services.add_member(project=project_obj, username=username, role=role)
                if created:
                    self.stdout.write(
                        f"{username}: created as {role}; one-time password: {created.password}"
                    )
                else:
                    self.stdout.write(f"{username}: {role} in {project_obj.slug}")
        except services.ServiceError as error:
            raise CommandError(str(error)) from error
