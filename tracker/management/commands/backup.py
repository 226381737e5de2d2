import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from tracker import backup


class Command(BaseCommand):
    help = (
        "Back up the whole database to FILE: --format=pg writes a pg_dump archive (PostgreSQL "
        "only; the production backup), --format=json (the default) a Django fixture of every "
        "row that restores into any database (FILE.json, or .json.gz/.bz2/.xz compressed). "
        "Sessions and login-throttling records are left out. Restore with manage.py restore. "
        "The file is readable by its owner only: it holds password hashes."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["json", "pg"], default="json")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file: Path, format: str, database: str, **options) -> None:
        started = time.monotonic()
        if format == "pg":
            backup.dump_pg(file, alias=database)
            done = "pg_dump archive"
        else:
            done = backup.summary(backup.dump_json(file, alias=database))
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up to {file} ({file.stat().st_size / 1e6:.1f} MB, "
                f"{time.monotonic() - started:.1f} s): {done}."
            )
        )
