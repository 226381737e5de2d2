"""Backup and restore of the whole database (README "Backup and restore").

Two formats, one pair of commands (``manage.py backup`` and ``manage.py restore``):

- ``pg``: a ``pg_dump --format=custom`` archive of the PostgreSQL database, tables and
  migration state included, restored by ``pg_restore`` in one transaction. The production
  backup: fast at any size.
- ``json``: a Django fixture of every row (``dumpdata``/``loaddata``), for any database and
  for moving between them (SQLite to PostgreSQL). Every row keeps its primary key, content
  types and permissions included: the history refers to owners by id in text columns
  (``FieldChange.old_value``), which natural keys would silently break, and with every id
  kept the copy is the same row for row. A restore therefore empties the database first
  (the content types and permissions ``migrate`` made go too) and loads everything in one
  transaction.

Both leave out the tables of ``EXCLUDED_APPS``, and both refuse to restore into a database
that holds data unless told to replace it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, OperationalError, connections, transaction
from django.db.backends.postgresql.client import DatabaseClient
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Model

from tracker import history

# Logins in progress (sessions) and login-throttling records (django-axes, when installed)
# are transient, and restoring sessions would log people back in: neither is backed up,
# and a restore leaves them empty.
EXCLUDED_APPS = ("sessions", "axes")

# What `migrate` writes into an empty database. A database holding nothing else is empty:
# a restore replaces these rows without asking.
MADE_BY_MIGRATE = frozenset(
    {"contenttypes.contenttype", "auth.permission", "auth.group", "auth.group_permissions"}
)

JSON_SUFFIXES = (".json", ".json.gz", ".json.bz2", ".json.xz")
COMPRESSION_MAGIC = {b"\x1f\x8b": ".gz", b"BZh": ".bz2", b"\xfd7zXZ\x00": ".xz"}
PG_MAGIC = b"PGDMP"
EXACT_JSON = "tracker-json"  # tracker.backup_json: JSON with whole timestamps

# The counts a summary names, in this order.
SUMMARY = (
    "auth.user",
    "dialogue.dialogue",
    "tracker.recommendation",
    "tracker.statusupdate",
    "tracker.fieldchange",
    "tracker.note",
)


def backed_up_models() -> list[type[Model]]:
    """Every model with a table of its own, many-to-many tables included, but for
    ``EXCLUDED_APPS``."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.app_label not in EXCLUDED_APPS
    ]


def excluded_models() -> list[type[Model]]:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in EXCLUDED_APPS and not model._meta.proxy
    ]


def row_counts(alias: str, models: list[type[Model]]) -> dict[str, int]:
    """Rows per model (``app_label.model``), for the models whose table exists."""
    tables = set(connections[alias].introspection.table_names())
    return {
        model._meta.label_lower: model._base_manager.using(alias).count()
        for model in models
        if model._meta.db_table in tables
    }


def data_in(alias: str) -> dict[str, int]:
    """What a restore would overwrite: the non-empty tables besides those `migrate` fills."""
    try:
        counts = row_counts(
            alias,
            [m for m in backed_up_models() if m._meta.label_lower not in MADE_BY_MIGRATE],
        )
    except OperationalError as error:
        raise CommandError(f"Cannot read the database: {error}".strip()) from error
    return {label: count for label, count in counts.items() if count}


def summary(counts: dict[str, int]) -> str:
    """A command's last line: '6,120 rows: 41 users, 7 dialogues, ...'."""
    named = [
        f"{counts[label]:,} {apps.get_model(label)._meta.verbose_name_plural}"
        for label in SUMMARY
        if label in counts
    ]
    return f"{sum(counts.values()):,} rows: {', '.join(named)}"


def _refuse_data(alias: str, force: bool) -> None:
    found = data_in(alias)
    if found and not force:
        listed = ", ".join(f"{label} {count:,}" for label, count in sorted(found.items()))
        raise CommandError(
            f"The database '{connections[alias].settings_dict['NAME']}' already holds data "
            f"({listed}). A restore replaces everything in it: restore into an empty "
            "database, or add --force to replace this one."
        )


@contextmanager
def _partial(path: Path) -> Iterator[Path]:
    """A file next to ``path`` that only its owner can read (a backup holds password
    hashes), renamed to ``path`` once complete: a failed backup never leaves a truncated
    file under the real name. The name ends like ``path``, so dumpdata compresses alike."""
    tmp = path.with_name(f".partial-{os.getpid()}-{path.name}")
    tmp.unlink(missing_ok=True)
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise CommandError(f"Cannot write {path}: {error.strerror}") from error
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _snapshot(alias: str) -> Iterator[None]:
    """One consistent view of the whole database for the length of a dump, without
    making writers wait: REPEATABLE READ on PostgreSQL, a deferred read transaction on
    SQLite in WAL mode (this project's SQLite connections BEGIN IMMEDIATE, which would
    hold every writer back until the dump ends). Inside a transaction already, that one."""
    connection = connections[alias]
    if connection.in_atomic_block:
        yield
        return
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        mode, connection.transaction_mode = connection.transaction_mode, None
        try:
            with transaction.atomic(using=alias):
                yield
        finally:
            connection.transaction_mode = mode
        return
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def dump_json(path: Path, *, alias: str) -> dict[str, int]:
    """Write every row but the excluded apps' to ``path``; the counts written."""
    if not path.name.endswith(JSON_SUFFIXES):
        raise CommandError(
            f"Name the JSON backup *.json, or *.json.gz, *.json.bz2, *.json.xz to compress "
            f"it (not {path.name})."
        )
    serializers.register_serializer(EXACT_JSON, "tracker.backup_json")
    installed = {config.label for config in apps.get_app_configs()}
    excludes = [f"--exclude={label}" for label in EXCLUDED_APPS if label in installed]
    with _partial(path) as tmp, _snapshot(alias):
        call_command(
            "dumpdata",
            "--all",
            f"--format={EXACT_JSON}",
            f"--output={tmp}",
            f"--database={alias}",
            *excludes,
            verbosity=0,
        )
        return row_counts(alias, [m for m in backed_up_models() if not m._meta.auto_created])


def pg_client(settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump and pg_restore from a DATABASES entry, and their
    environment. The password goes in PGPASSWORD (with SSL files and the service, as
    ``dbshell`` does): never in the arguments, which any user on the machine can list."""
    _, env = DatabaseClient.settings_to_cmd_args_env(settings_dict, [])
    args = [
        f"{flag}={settings_dict[key]}"
        for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER"))
        if settings_dict.get(key)
    ]
    if settings_dict.get("NAME"):
        args.append(f"--dbname={settings_dict['NAME']}")
    return args, {**os.environ, **(env or {})}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise CommandError(
            f"{name} is not on the PATH: install the PostgreSQL client tools of the server's "
            "major version or newer (Debian: apt-get install postgresql-client)."
        )
    return found


def _require_postgresql(alias: str, what: str) -> None:
    vendor = connections[alias].vendor
    if vendor != "postgresql":
        raise CommandError(
            f"{what} needs PostgreSQL; the database is {vendor}. Use a JSON backup "
            "(manage.py backup FILE.json) on any database and to move between them."
        )


def _run(command: list[str], env: dict[str, str]) -> None:
    # A list of our own arguments, no shell.
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise CommandError(
            f"{Path(command[0]).name} failed (exit {result.returncode}), nothing was written:\n"
            f"{result.stderr.strip()}"
        )


def dump_pg(path: Path, *, alias: str) -> None:
    _require_postgresql(alias, "--format=pg")
    pg_dump = _tool("pg_dump")
    args, env = pg_client(connections[alias].settings_dict)
    skipped = [f"--exclude-table-data={model._meta.db_table}" for model in excluded_models()]
    with _partial(path) as tmp:
        _run([pg_dump, "--format=custom", "--no-password", f"--file={tmp}", *skipped, *args], env)


def backup_format(path: Path) -> tuple[str, str]:
    """``("pg", "")`` for a pg_dump archive, ``("json", ".gz")`` etc. for a JSON backup,
    told by the file's first bytes, whatever it is called."""
    try:
        with path.open("rb") as file:
            head = file.read(8)
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}") from error
    if head.startswith(PG_MAGIC):
        return "pg", ""
    for magic, suffix in COMPRESSION_MAGIC.items():
        if head.startswith(magic):
            return "json", suffix
    if head.lstrip()[:1] == b"[":
        return "json", ""
    raise CommandError(f"{path} is neither a pg_dump archive nor a JSON backup.")


def _require_migrated(alias: str) -> None:
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise CommandError(
            f"The database lacks {len(plan)} migration(s) of this code: a JSON backup holds "
            "rows, not tables, so run manage.py migrate first, then restore."
        )


def restore_json(path: Path, compression: str, *, alias: str, force: bool) -> None:
    """Empty the database and load the backup, in one transaction: on any error the
    database is left as it was."""
    try:
        _require_migrated(alias)
    except OperationalError as error:
        raise CommandError(f"Cannot read the database: {error}".strip()) from error
    with tempfile.TemporaryDirectory() as tmp:
        # loaddata finds a fixture by name, format and compression; under a fixed name in a
        # directory of its own it reads exactly this file, whatever the file is called.
        fixture = Path(tmp, f"backup.json{compression}")
        fixture.symlink_to(path.resolve())
        with transaction.atomic(using=alias):
            _refuse_data(alias, force)
            try:
                # The content types and permissions come back with their ids from the
                # backup, so flush must not make new ones (post_migrate).
                call_command(
                    "flush",
                    interactive=False,
                    inhibit_post_migrate=True,
                    database=alias,
                    verbosity=0,
                )
                call_command("loaddata", str(fixture), database=alias, verbosity=0)
                # A backup made before status updates knew their previous one: link them.
                history.link_status_updates(alias)
            except (DatabaseError, DeserializationError) as error:
                raise CommandError(
                    f"The restore failed and changed nothing: {error}".strip()
                ) from error
    ContentType.objects.clear_cache()


def restore_pg(path: Path, *, alias: str, force: bool) -> None:
    """pg_restore in one transaction, dropping and recreating every table of the archive:
    into an empty database (createdb) or a migrated one alike."""
    _require_postgresql(alias, f"{path.name} is a pg_dump archive: restoring it")
    pg_restore = _tool("pg_restore")
    _refuse_data(alias, force)
    connection = connections[alias]
    connection.close()
    args, env = pg_client(connection.settings_dict)
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            # Objects belong to the user restoring, with its rights: the original owner
            # and grantees may not exist on this server.
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            *args,
            str(path.resolve()),  # absolute: a name starting with "-" is not an option
        ],
        env,
    )
    ContentType.objects.clear_cache()
