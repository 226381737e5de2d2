import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from tracker import services
from tracker.models import Recommendation, Status

DEMO = Path(settings.BASE_DIR, "fixtures", "demo-history.json")


class Command(BaseCommand):
    help = (
        "Load the demo history (fixtures/demo-history.json): example tracking of the seed "
        "dialogue's recommendations from public events, written through the same services as "
        "the app, by a user named 'Example tracking (demo)'. Loads once."
    )

    def handle(self, *args, **options) -> None:
        demo = json.loads(DEMO.read_text(encoding="utf-8"))
        User = get_user_model()
        if User.objects.filter(username=demo["user"]["username"]).exists():
            self.stdout.write("Demo history already present: nothing to do.")
            return
        statuses = {status.slug: status for status in Status.objects.all()}
        with transaction.atomic():
            user = User.objects.create_user(**demo["user"], is_active=False)
            user.set_unusable_password()
            user.save()
            for event in sorted(demo["events"], key=lambda e: e["at"]):
                try:
                    recommendation = Recommendation.objects.get(
                        dialogue__slug=demo["dialogue"], number=event["recommendation"]
                    )
                except Recommendation.DoesNotExist as error:
                    raise CommandError(
                        f"Load the seed first (manage.py load_seed): {demo['dialogue']} "
                        f"recommendation {event['recommendation']} is missing."
                    ) from error
                if event["status"] not in statuses:
                    raise CommandError(f"Unknown status {event['status']!r} in {DEMO.name}.")
                services.status_change(
                    recommendation=recommendation,
                    to=statuses[event["status"]],
                    by=user,
                    rationale=event["rationale"],
                    evidence_source=event.get("evidence_source", ""),
                    at=parse_datetime(event["at"]),
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {len(demo['events'])} example status updates. {demo['label']}"
            )
        )
