"""Project-wide test fixtures: the database check, seed data, users and the browser."""

import importlib
import os
from pathlib import Path

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in the test thread; Django would
# otherwise refuse ORM calls made next to it (live_server tests).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "test-artifacts"


@pytest.fixture(scope="session", autouse=True)
def _expected_database():
    """`make test-pg` must really run on PostgreSQL, never fall back silently."""
    from django.db import connection

    expected = os.environ.get("TRACKER_EXPECT_DB")
    if expected and connection.vendor != expected:
        pytest.fail(f"expected the {expected} database, got {connection.vendor}")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached pages are keyed by the data; ids repeat across tests on SQLite."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seed(db):
    """The status vocabulary, themes, actors and the US-ROK 2020 dialogue."""
    call_command("load_seed", verbosity=0)


@pytest.fixture
def roles(transactional_db):
    """The Viewer, Analyst and Editor groups again, for tests that commit.

    A test that commits (live_server) flushes the database afterwards, taking the
    groups the data migration made with it; this makes them the same way.
    """
    from django.apps import apps

    importlib.import_module("tracker.migrations.0002_groups").create_groups(apps, None)


@pytest.fixture
def vocabulary(db):
    call_command("loaddata", "vocabulary", verbosity=0)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing; install it with: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    }


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests save screenshots for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
