from django.apps import AppConfig


class TrackerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracker"

    def ready(self) -> None:
        # Connects the security log's receivers (logins, failures, lockouts).
        from tracker import security  # noqa: F401
