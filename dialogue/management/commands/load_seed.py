from django.core.management import call_command
from django.core.management.base import BaseCommand

from dialogue.models import Dialogue
from tracker.models import Status

FIXTURES = ["vocabulary", "us-rok-strategic-dialogue-2020"]


class Command(BaseCommand):
    help = (
        "Load the status vocabulary, themes, actors and the seed dialogue into an empty "
        "database. A database that has any dialogue or status already is left as it is, "
        "so a second run keeps the first run's data and every edit since."
    )

    def handle(self, *args, **options) -> None:
        if Dialogue.objects.exists() or Status.objects.exists():
            self.stdout.write("Seed data already present: keeping the database as it is.")
            return
        call_command("loaddata", *FIXTURES, verbosity=options["verbosity"])
        self.stdout.write(self.style.SUCCESS(f"Loaded the seed: {', '.join(FIXTURES)}."))
