"""Fixtures for the operations tests: real gunicorn processes and PostgreSQL clusters.

These tests need PostgreSQL and gunicorn. On the SQLite suite (`make test`) they are
skipped, because `make test-pg` runs them; when a tool they need is missing they are
skipped on a developer's machine and fail in CI (`CI=true`).
"""

import os

import pytest

from tests.ops.servers import missing_for_gunicorn, missing_for_throwaway_postgres


def need(missing: str | None) -> None:
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture(scope="session")
def postgresql_suite():
    """Skip on the SQLite suite: these tests run in `make test-pg`."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL; `make test-pg` runs it")


@pytest.fixture(scope="session")
def gunicorn_available(postgresql_suite):
    need(missing_for_gunicorn())


@pytest.fixture(scope="session")
def throwaway_postgres_available(postgresql_suite):
    need(missing_for_throwaway_postgres())
