import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure a superuser exists. The password comes from TRACKER_ADMIN_PASSWORD, or is "
        "generated and printed once; nothing fixed lives in the repository."
    )

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        existing = User.objects.filter(is_superuser=True, is_active=True).first()
        if existing:
            self.stdout.write(
                f"Log in as '{existing.get_username()}' with the password you were given when it "
                f"was created (forgotten? manage.py changepassword {existing.get_username()})."
            )
            return
        username = os.environ.get("TRACKER_ADMIN_USERNAME", "admin")
        password = os.environ.get("TRACKER_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        shown = (
            "the password in TRACKER_ADMIN_PASSWORD"
            if os.environ.get("TRACKER_ADMIN_PASSWORD")
            else f"the password {password}  (shown only this once)"
        )
        self.stdout.write(
            self.style.SUCCESS(f"Created the superuser '{username}'. Log in with {shown}.")
        )
