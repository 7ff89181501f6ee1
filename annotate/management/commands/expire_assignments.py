"""Return abandoned labeling assignments to the pool (run from cron; no Celery needed)."""

from django.core.management.base import BaseCommand

from annotate.labeling.expiry import expire_assignments


class Command(BaseCommand):
    help = "Expire labeling assignments past their timeout so their items go to someone else."

    def handle(self, *args, **options):
        expired = expire_assignments()
        self.stdout.write(f"{expired} assignment(s) expired.")
