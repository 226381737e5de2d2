"""Backup and restore (tracker/backup.py, README "Backup and restore").

A full database (the seed, the demo history, an imported report with its suggested links,
synthetic dialogues with thousands of history entries, users in groups, direct permissions,
notes, an admin log entry, a session) is backed up and restored into an empty one, and every
table is compared row by row. Every database here is a file or a PostgreSQL database of its
own, built, backed up and restored by `manage.py` in subprocesses, as an operator would; only
the snapshot test at the end uses the suite's database.

The PostgreSQL tests run in `make test-pg` (on the suite's server) and are skipped by
`make test`; without pg_dump or pg_restore they fail in CI and are skipped elsewhere.
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tracker import backup, backup_json

ROOT = Path(__file__).resolve().parent.parent
PID = os.getpid()
REPORT = ROOT / "dialogue" / "tests" / "reports" / "europe-asia-2022.txt"
SEED_DIALOGUE = "us-rok-strategic-dialogue-2020"


# --- Running manage.py against a database of its own -------------------------------------


def manage(url: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )


def manage_ok(url: str, *args: str, env: dict | None = None) -> str:
    result = manage(url, *args, env=env)
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def run_here(url: str, function: str, *args: str) -> str:
    """Call a function of this module in a subprocess on the database at ``url``."""
    call = f"from tests.test_backup import {function}; {function}(*{list(args)!r})"
    return manage_ok(url, "shell", "--no-imports", "-c", call)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def copy_sqlite(source: Path, target: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return target


# --- What the source database holds ----------------------------------------------------------


def populate() -> None:
    """Users, roles, direct permissions, tracking, notes, a confirmed suggestion, an admin
    log entry, a session and gaps in the ids: the rest of a database in use. Runs in a
    subprocess (``run_here``) after the seed, the demo history, an import and synthesize."""
    from django.conf import settings
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from dialogue.models import Dialogue
    from tracker import services
    from tracker.models import LinkSuggestion, Recommendation, Status
    from tracker.suggestions import suggestion_confirm
    from tracker.tests.helpers import make_history, make_theme, make_user

    # Test data: the real hasher takes half a second a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    # The Viewer group made again: its id is no longer the one `migrate` gives it.
    viewer = Group.objects.get(name="Viewer")
    permissions = list(viewer.permissions.all())
    viewer.delete()
    Group.objects.create(name="Viewer").permissions.set(permissions)

    editors = [make_user(role="Editor", is_staff=True) for _ in range(2)]
    analysts = [make_user(role="Analyst", email=f"analyst{n}@example.org") for n in range(3)]
    for _ in range(3):
        make_user(role="Viewer")
    both = make_user(role="Viewer")
    both.groups.add(Group.objects.get(name="Analyst"))
    direct = make_user()
    direct.user_permissions.add(Permission.objects.get(codename="add_note"))
    User.objects.create_superuser("root", "root@example.org", "pw-root")
    User.objects.filter(pk=analysts[0].pk).update(last_login=timezone.now())

    # Gaps in the ids, which a restore must keep.
    for theme in [make_theme() for _ in range(3)][:2]:
        theme.delete()

    # Tracking through the services, timestamps to the microsecond, after the demo history.
    recent = timezone.now() - datetime.timedelta(days=10)
    tracked = list(
        Recommendation.objects.filter(dialogue__slug=SEED_DIALOGUE)
        | Recommendation.objects.filter(dialogue__slug="eu-rok-dialogue-2022")
    )
    make_history(tracked, seed=3, start=recent, days=9)
    synthetic = Recommendation.objects.filter(dialogue__slug__startswith="synthetic").first()
    services.status_change(
        recommendation=synthetic,
        to=Status.objects.exclude(pk=synthetic.status_id).last(),
        by=analysts[1],
        rationale="Ünïcode — “quotes”, <b>not markup</b> & emoji 🎉\nSecond line.",
        evidence_source="Joint statement",
        evidence_url="https://example.org/statement?a=1&b=2",
        evidence_date=datetime.date(2024, 2, 29),
    )
    for recommendation in tracked[:5]:
        services.note_add(recommendation=recommendation, by=analysts[2], text="Asked the desk.")
    suggestion_confirm(LinkSuggestion.objects.order_by("pk").first())

    dialogue = Dialogue.objects.get(slug=SEED_DIALOGUE)
    LogEntry.objects.create(
        user=editors[0],
        content_type=ContentType.objects.get_for_model(Dialogue),
        object_id=str(dialogue.pk),
        object_repr=str(dialogue)[:200],
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Location"]}}]',
    )
    session = SessionStore()
    session["_auth_user_id"] = str(editors[0].pk)
    session.create()


def build_full(url: str) -> None:
    """A migrated database filled as described at the top."""
    manage_ok(url, "load_seed")
    manage_ok(url, "load_demo")
    manage_ok(url, "import_report", str(REPORT))
    manage_ok(
        url, "synthesize", "--dialogues=4", "--recommendations=400", "--history=4000", "--owners=6"
    )
    run_here(url, "populate")


# --- Comparing databases ------------------------------------------------------------------


def _plain(value):
    if isinstance(value, datetime.datetime):
        return f"datetime {value.astimezone(datetime.UTC).isoformat()}"
    if isinstance(value, datetime.date):
        return f"date {value.isoformat()}"
    if isinstance(value, float):
        return f"float {value!r}"
    return value


def write_snapshot(path: str) -> None:
    """Every row of every table (many-to-many tables too) ordered by id, and what each
    user may do, as JSON. Runs in a subprocess on the database to compare."""
    from django.apps import apps
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import User

    tables = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        rows = model._base_manager.order_by("pk").values()
        tables[model._meta.label_lower] = {
            "m2m": bool(model._meta.auto_created),
            "rows": [{key: _plain(value) for key, value in row.items()} for row in rows],
        }
    backend = ModelBackend()
    permissions = {
        user.username: sorted(backend.get_all_permissions(user))
        for user in User.objects.order_by("pk")
    }
    Path(path).write_text(json.dumps({"tables": tables, "permissions": permissions}))


def snapshot(url: str, path: Path) -> dict:
    run_here(url, "write_snapshot", str(path))
    return json.loads(path.read_text())


def _links(rows: list[dict]) -> list[list]:
    """A many-to-many table's rows without their own ids, which nothing refers to."""
    return sorted([value for key, value in sorted(row.items()) if key != "id"] for row in rows)


def assert_same_data(before: dict, after: dict, *, link_ids: bool) -> None:
    """Every table has the same rows in both, but for the excluded apps' (empty after).
    Without ``link_ids`` the rows of many-to-many tables are compared without their ids."""
    assert after["tables"].keys() == before["tables"].keys()
    for label, table in before["tables"].items():
        rows, restored = table["rows"], after["tables"][label]["rows"]
        if label.split(".")[0] in backup.EXCLUDED_APPS:
            assert restored == [], f"{label} should not be restored"
            continue
        if table["m2m"] and not link_ids:
            rows, restored = _links(rows), _links(restored)
        assert len(restored) == len(rows), f"{label}: {len(restored)} rows, not {len(rows)}"
        for old, new in zip(rows, restored, strict=True):
            assert new == old, f"{label}: restored as {new}, was {old}"
    assert after["permissions"] == before["permissions"]


def assert_full(data: dict) -> None:
    """The source really holds what the round trips claim to carry."""
    tables = data["tables"]
    minimum = {
        "auth.user": 20,
        "auth.user_groups": 15,
        "auth.user_user_permissions": 1,
        "auth.group_permissions": 50,
        "admin.logentry": 1,
        "sessions.session": 1,
        "dialogue.dialogue": 6,
        "dialogue.person": 2000,
        "dialogue.passage_themes": 1,
        "tracker.recommendation": 400,
        "tracker.recommendation_themes": 400,
        "tracker.statusupdate": 2000,
        "tracker.fieldchange": 500,
        "tracker.note": 300,
        "tracker.linksuggestion": 1,
    }
    for label, count in minimum.items():
        assert len(tables[label]["rows"]) >= count, label
    owners = [r for r in tables["tracker.fieldchange"]["rows"] if r["field"] == "owner"]
    assert any(row["new_value"] for row in owners)
    # Microseconds that a millisecond format would lose.
    stamps = [r["at"] for r in tables["tracker.statusupdate"]["rows"]]
    assert any(not stamp.split("+")[0].endswith("000") for stamp in stamps if "." in stamp)
    themes = [row["id"] for row in tables["dialogue.theme"]["rows"]]
    assert themes != list(range(1, len(themes) + 1)), "the ids should have gaps"


def write_after_restore() -> None:
    """New rows of every kind in a restored database. On PostgreSQL every table's
    sequence must be past its largest id, or the next insert collides; then rows are
    inserted, each taking its table's next id."""
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, models

    from dialogue.models import Theme
    from tracker import services
    from tracker.models import Actor, LinkSuggestion, Recommendation, Status
    from tracker.tests.helpers import make_dialogue, make_recommendation, make_user

    behind = []
    if connection.vendor == "postgresql":
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model in backup.backed_up_models():
                pk = model._meta.pk
                if not isinstance(pk, models.AutoField):
                    continue
                table = model._meta.db_table
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk.column])
                sequence = cursor.fetchone()[0]
                cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
                last, called = cursor.fetchone()
                cursor.execute(f"SELECT max({qn(pk.column)}) FROM {qn(table)}")  # noqa: S608
                largest = cursor.fetchone()[0] or 0
                if (last + 1 if called else last) <= largest:
                    behind.append(f"{table}: next id {last}, largest {largest}")
    assert not behind, behind

    user = make_user("after-restore", role="Analyst")
    group = Group.objects.create(name="Reviewers")
    group.permissions.add(Permission.objects.get(codename="view_recommendation"))
    existing = Recommendation.objects.order_by("pk").last()
    services.status_change(
        recommendation=existing,
        to=Status.objects.exclude(pk=existing.status_id).first(),
        by=user,
        rationale="After the restore.",
    )
    services.recommendation_change(
        recommendation=existing, by=user, next_review=datetime.date(2031, 1, 1)
    )
    services.note_add(recommendation=existing, by=user, text="After the restore.")
    recommendation = make_recommendation(make_dialogue())
    recommendation.themes.add(Theme.objects.first())
    LinkSuggestion.objects.create(
        recommendation=recommendation,
        kind="actor",
        actor=Actor.objects.first(),
        score=0.5,
        reason="new",
    )
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Recommendation),
        object_id=str(recommendation.pk),
        object_repr="new",
        action_flag=ADDITION,
    )
    print("written")


def assert_restored(source: dict, url: str, tmp_path: Path, *, link_ids: bool) -> None:
    assert_same_data(source, snapshot(url, tmp_path / "restored.json"), link_ids=link_ids)
    assert "written" in run_here(url, "write_after_restore")


def assert_private(path: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "a backup holds password hashes"
    assert not list(path.parent.glob(".partial-*")), "no partial file left behind"


# --- The databases ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_migrated(tmp_path_factory) -> Path:
    """An SQLite file with every migration applied and nothing else; copied for targets."""
    path = tmp_path_factory.mktemp("sqlite") / "migrated.sqlite3"
    manage_ok(sqlite_url(path), "migrate", "--no-input")
    return path


@pytest.fixture(scope="module")
def sqlite_source(sqlite_migrated, tmp_path_factory) -> tuple[str, dict]:
    folder = tmp_path_factory.mktemp("sqlite-source")
    url = sqlite_url(copy_sqlite(sqlite_migrated, folder / "source.sqlite3"))
    build_full(url)
    data = snapshot(url, folder / "source.json")
    assert_full(data)
    return url, data


class PostgreSQL:
    """The suite's PostgreSQL server. The databases made here are dropped at the end."""

    def __init__(self, settings_dict: dict):
        self.settings = settings_dict
        self.made: list[str] = []

    def url(self, name: str, password: str | None = None) -> str:
        user = quote(self.settings["USER"] or "")
        password = password if password is not None else self.settings["PASSWORD"] or ""
        secret = f":{quote(password)}" if password else ""
        host = self.settings["HOST"] or "localhost"
        return f"postgres://{user}{secret}@{host}:{self.settings['PORT'] or 5432}/{name}"

    def _admin(self, statement) -> None:
        import psycopg

        with psycopg.connect(
            host=self.settings["HOST"] or None,
            port=self.settings["PORT"] or None,
            user=self.settings["USER"] or None,
            password=self.settings["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as admin:
            admin.execute(statement)

    def create(self, name: str, template: str | None = None) -> str:
        from psycopg import sql

        self.drop(name)
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self._admin(statement)
        self.made.append(name)
        return self.url(name)

    def drop(self, name: str) -> None:
        from psycopg import sql

        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def pg():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: make test-pg runs it")
    for tool in ("pg_dump", "pg_restore"):
        if not shutil.which(tool):
            message = f"{tool} is missing; install it with: apt-get install postgresql-client"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    server = PostgreSQL(connection.settings_dict)
    yield server
    for name in server.made:
        server.drop(name)


@pytest.fixture(scope="module")
def pg_migrated(pg) -> str:
    """A migrated PostgreSQL database with nothing else, the template of the targets."""
    name = f"tracker_backup_migrated_{PID}"
    manage_ok(pg.create(name), "migrate", "--no-input")
    return name


@pytest.fixture(scope="module")
def pg_source(pg, pg_migrated, tmp_path_factory) -> tuple[str, dict]:
    url = pg.create(f"tracker_backup_source_{PID}", template=pg_migrated)
    build_full(url)
    data = snapshot(url, tmp_path_factory.mktemp("pg-source") / "source.json")
    assert_full(data)
    return url, data


# --- Round trips --------------------------------------------------------------------------


def test_json_round_trip_sqlite_to_a_new_sqlite_file(sqlite_source, sqlite_migrated, tmp_path):
    url, data = sqlite_source
    file = tmp_path / "tracker.json"
    assert "Backed up" in manage_ok(url, "backup", str(file))
    assert_private(file)

    target = sqlite_url(copy_sqlite(sqlite_migrated, tmp_path / "restored.sqlite3"))
    assert "Restored" in manage_ok(target, "restore", str(file))
    assert_restored(data, target, tmp_path, link_ids=False)


def test_json_round_trip_postgresql_to_a_new_postgresql_database(
    pg, pg_source, pg_migrated, tmp_path
):
    url, data = pg_source
    file = tmp_path / "tracker.json.gz"
    manage_ok(url, "backup", str(file))
    assert_private(file)
    with gzip.open(file) as unpacked:
        assert unpacked.read(1) == b"["

    target = pg.create(f"tracker_restore_{PID}_json", template=pg_migrated)
    manage_ok(target, "restore", str(file))
    assert_restored(data, target, tmp_path, link_ids=False)


def test_json_round_trip_sqlite_to_postgresql(pg, sqlite_source, pg_migrated, tmp_path):
    url, data = sqlite_source
    file = tmp_path / "from-sqlite.json.xz"
    manage_ok(url, "backup", str(file))

    target = pg.create(f"tracker_restore_{PID}_from_sqlite", template=pg_migrated)
    manage_ok(target, "restore", str(file))
    assert_restored(data, target, tmp_path, link_ids=False)


def test_pg_dump_round_trip_into_a_migrated_and_into_an_empty_database(
    pg, pg_source, pg_migrated, tmp_path
):
    url, data = pg_source
    file = tmp_path / "tracker.dump"
    manage_ok(url, "backup", "--format=pg", str(file))
    assert_private(file)
    assert file.read_bytes().startswith(b"PGDMP")

    migrated = pg.create(f"tracker_restore_{PID}_pg_migrated", template=pg_migrated)
    manage_ok(migrated, "restore", str(file))
    assert_restored(data, migrated, tmp_path, link_ids=True)

    empty = pg.create(f"tracker_restore_{PID}_pg_empty")  # createdb: not even tables
    manage_ok(empty, "restore", str(file))
    assert_restored(data, empty, tmp_path, link_ids=True)
    assert "[ ]" not in manage_ok(empty, "showmigrations"), "the migration state comes back"


# --- A database with data, and failures ---------------------------------------------------


def _corrupt(file: Path, kind: str) -> Path:
    """The same backup, broken at its end: after the database has been emptied and most
    rows loaded."""
    broken = file.with_name(f"broken-{file.name}")
    if kind == "json":
        objects = json.loads(file.read_text())
        objects.append(
            {
                "model": "tracker.note",
                "pk": 999999,
                "fields": {
                    "recommendation": 999999,
                    "author": 1,
                    "created_at": "2024-01-01T00:00:00+00:00",
                    "text": "A note on a recommendation the backup does not have.",
                },
            }
        )
        broken.write_text(json.dumps(objects))
    else:
        content = file.read_bytes()
        broken.write_bytes(content[: len(content) * 3 // 4])
    return broken


def _database_with_data(request, tmp_path, kind: str) -> tuple[str, str]:
    """(a small database to back up, a database holding other data) for ``kind``."""
    if kind == "json-sqlite":
        migrated = request.getfixturevalue("sqlite_migrated")
        small = sqlite_url(copy_sqlite(migrated, tmp_path / "small.sqlite3"))
        other = sqlite_url(copy_sqlite(migrated, tmp_path / "other.sqlite3"))
    else:
        pg, migrated = request.getfixturevalue("pg"), request.getfixturevalue("pg_migrated")
        small = pg.create(f"tracker_restore_{PID}_small", template=migrated)
        other = pg.create(f"tracker_restore_{PID}_other", template=migrated)
    manage_ok(small, "load_seed")
    manage_ok(other, "load_seed")
    manage_ok(other, "import_report", str(REPORT))
    return small, other


@pytest.mark.parametrize("kind", ["json-sqlite", "json-postgresql", "pg"])
def test_restore_into_a_database_with_data_needs_force_and_is_all_or_nothing(
    request, tmp_path, kind
):
    small, other = _database_with_data(request, tmp_path, kind)
    file = tmp_path / ("small.dump" if kind == "pg" else "small.json")
    manage_ok(small, "backup", *(["--format=pg"] if kind == "pg" else []), str(file))
    before = snapshot(other, tmp_path / "before.json")

    refused = manage(other, "restore", str(file))
    assert refused.returncode != 0
    assert "already holds data" in refused.stderr
    assert "tracker.recommendation 9" in refused.stderr, "it says what is there"
    assert "--force" in refused.stderr
    assert snapshot(other, tmp_path / "after.json") == before

    failed = manage(other, "restore", "--force", str(_corrupt(file, kind.split("-")[0])))
    assert failed.returncode != 0
    assert "changed nothing" in failed.stderr or "nothing was written" in failed.stderr
    assert snapshot(other, tmp_path / "after.json") == before, "one transaction: nothing changed"

    manage_ok(other, "restore", "--force", str(file))
    assert_same_data(
        snapshot(small, tmp_path / "small.json"),
        snapshot(other, tmp_path / "after.json"),
        link_ids=kind == "pg",
    )


def test_a_freshly_migrated_database_counts_as_empty(sqlite_migrated, tmp_path):
    url = sqlite_url(copy_sqlite(sqlite_migrated, tmp_path / "fresh.sqlite3"))
    assert run_here(url, "print_data_in").strip() == "{}"
    manage_ok(url, "load_seed")
    assert "tracker.status" in run_here(url, "print_data_in")


def print_data_in() -> None:
    print(json.dumps(backup.data_in("default")))


def test_a_json_backup_restores_only_into_a_migrated_database(sqlite_migrated, tmp_path):
    file = tmp_path / "empty.json"
    manage_ok(sqlite_url(copy_sqlite(sqlite_migrated, tmp_path / "a.sqlite3")), "backup", str(file))
    result = manage(sqlite_url(tmp_path / "never-migrated.sqlite3"), "restore", str(file))
    assert result.returncode != 0
    assert "run manage.py migrate first" in result.stderr


def test_pg_archives_need_postgresql_and_files_must_be_backups(sqlite_migrated, tmp_path):
    url = sqlite_url(copy_sqlite(sqlite_migrated, tmp_path / "db.sqlite3"))
    result = manage(url, "backup", "--format=pg", str(tmp_path / "x.dump"))
    assert result.returncode != 0
    assert "--format=pg needs PostgreSQL; the database is sqlite" in result.stderr
    assert not (tmp_path / "x.dump").exists()

    archive = tmp_path / "archive.dump"
    archive.write_bytes(b"PGDMP\x01\x0f\x00 and the rest")
    result = manage(url, "restore", str(archive))
    assert "is a pg_dump archive: restoring it needs PostgreSQL" in result.stderr

    other = tmp_path / "notes.txt"
    other.write_text("not a backup")
    assert (
        "neither a pg_dump archive nor a JSON backup" in manage(url, "restore", str(other)).stderr
    )
    result = manage(url, "backup", str(tmp_path / "tracker.dump"))
    assert "Name the JSON backup *.json" in result.stderr


# --- PostgreSQL client tools --------------------------------------------------------------


def test_the_password_goes_to_pg_tools_in_the_environment_not_the_arguments():
    args, env = backup.pg_client(
        {
            "NAME": "tracker",
            "USER": "ops",
            "PASSWORD": "s3cret-pw",
            "HOST": "db.internal",
            "PORT": 5433,
            "OPTIONS": {"sslmode": "require"},
        }
    )
    assert args == ["--host=db.internal", "--port=5433", "--username=ops", "--dbname=tracker"]
    assert env["PGPASSWORD"] == "s3cret-pw"
    assert env["PGSSLMODE"] == "require"


def test_pg_backup_and_restore_pass_the_password_in_the_environment(pg, pg_migrated, tmp_path):
    """pg_dump and pg_restore are replaced by scripts that note their arguments and
    PGPASSWORD, then run the real tools (the server trusts local connections, so the
    password is carried but not checked)."""
    shims = tmp_path / "bin"
    shims.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        script = shims / tool
        script.write_text(
            "#!/bin/sh\n"
            f'printf "%s\\n" "$@" > "{tmp_path}/{tool}.args"\n'
            f'printf "%s" "$PGPASSWORD" > "{tmp_path}/{tool}.password"\n'
            f'exec {shutil.which(tool)} "$@"\n'
        )
        script.chmod(0o700)
    env = {"PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"}
    source, target = f"tracker_restore_{PID}_password", f"tracker_restore_{PID}_password_to"
    pg.create(source, template=pg_migrated)
    pg.create(target)
    password = "s3cret-pw"

    file = tmp_path / "tracker.dump"
    manage_ok(pg.url(source, password), "backup", "--format=pg", str(file), env=env)
    manage_ok(pg.url(target, password), "restore", str(file), env=env)
    for tool in ("pg_dump", "pg_restore"):
        assert password not in (tmp_path / f"{tool}.args").read_text()
        assert (tmp_path / f"{tool}.password").read_text() == password


def test_missing_pg_tools_are_named(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(CommandError, match="pg_restore is not on the PATH"):
        backup._tool("pg_restore")


# --- A backup is one moment ---------------------------------------------------------------


def test_a_json_backup_is_one_consistent_moment_while_others_write(
    transactional_db, tmp_path, monkeypatch
):
    """Another connection commits a new recommendation with its history after the backup
    has started reading: the backup holds none of it (nor a status update whose
    recommendation it lacks), and the writer did not have to wait for the backup."""
    from dialogue.models import Dialogue
    from tracker import services
    from tracker.models import Recommendation, Status
    from tracker.tests.helpers import make_recommendation, make_user

    call_command("load_seed", verbosity=0)
    written, errors = [], []

    def write_elsewhere() -> None:
        from django.db import connection

        try:
            recommendation = make_recommendation(Dialogue.objects.get())
            services.status_change(
                recommendation=recommendation,
                to=Status.objects.exclude(pk=recommendation.status_id).first(),
                by=make_user(),
                rationale="Written during the backup.",
            )
            written.append(recommendation.pk)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    serialize = backup_json.Serializer.end_object

    def end_object(self, obj):
        if not written and not errors:
            writer = threading.Thread(target=write_elsewhere)
            writer.start()
            writer.join(timeout=60)
        serialize(self, obj)

    monkeypatch.setattr(backup_json.Serializer, "end_object", end_object)
    file = tmp_path / "during.json"
    call_command("backup", str(file), verbosity=0)

    assert not errors, errors
    assert Recommendation.objects.filter(pk__in=written).exists()
    objects = json.loads(file.read_text())
    recommendations = {o["pk"] for o in objects if o["model"] == "tracker.recommendation"}
    assert len(recommendations) == 6
    assert written[0] not in recommendations
    updates = [o for o in objects if o["model"] == "tracker.statusupdate"]
    assert all(o["fields"]["recommendation"] in recommendations for o in updates)
    assert not [o for o in objects if o["model"] == "auth.user"], "the writer's user too"
