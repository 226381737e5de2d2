import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from tracker import backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by manage.py backup, in one transaction. A pg_dump archive "
        "restores into PostgreSQL (an empty database from createdb, or a migrated one); a "
        "JSON backup into any migrated database. Refuses a database that holds data "
        "unless --force, which replaces everything in it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace the data the database holds; without it a restore needs an empty one.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file: Path, force: bool, database: str, **options) -> None:
        started = time.monotonic()
        kind, compression = backup.backup_format(file)
        if kind == "pg":
            backup.restore_pg(file, alias=database, force=force)
        else:
            backup.restore_json(file, compression, alias=database, force=force)
        counts = backup.row_counts(
            database, [m for m in backup.backed_up_models() if not m._meta.auto_created]
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {file} ({time.monotonic() - started:.1f} s): {backup.summary(counts)}."
            )
        )
