"""Several app servers on one PostgreSQL database: no state lives in a process.

Two gunicorn instances (A and B, same SECRET_KEY) serve the test database, whose
rows these tests commit (transactional_db). A third (C) has another SECRET_KEY, to
show that the session check below can fail, and why the key must be shared.
"""

import concurrent.futures
import importlib
import os
import threading
from collections import Counter

import pytest
from django.conf import global_settings
from django.db import connection

from tests.ops.servers import Client, Gunicorn, database_url, new_secret_key
from tracker.models import FieldChange, Recommendation, StatusUpdate
from tracker.tests.helpers import make_recommendation, make_status, make_user

pytestmark = pytest.mark.usefixtures("gunicorn_available")

RACERS = 40
PASSWORD = "Two-servers-login-9"


@pytest.fixture(scope="module")
def servers(gunicorn_available, django_db_setup, django_db_blocker):
    """A and B share a SECRET_KEY; C does not. Each A/B instance: 2 workers of 4 threads,
    so that many of the racing requests really are in the database at once."""
    with django_db_blocker.unblock():
        db_url = database_url(connection.settings_dict)
    key = new_secret_key()
    options = ["--workers", "2", "--threads", "4", "--access-logfile", "/dev/null"]
    started = {
        "A": Gunicorn(db_url, secret_key=key, options=options),
        "B": Gunicorn(db_url, secret_key=key, options=options),
        "C": Gunicorn(
            db_url,
            secret_key=new_secret_key(),
            options=["--workers", "1", "--access-logfile", "/dev/null"],
        ),
    }
    try:
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture
def analyst(roles, settings):
    """An analyst whose password the servers can check: hashed with the project's own
    hashers, not the suite's fast test hasher."""
    project = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    settings.PASSWORD_HASHERS = getattr(
        project, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS
    )
    user = make_user(role="Analyst")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_a_session_started_on_one_server_works_on_the_other(servers, analyst):
    recommendation = make_recommendation()
    page = f"/recommendations/{recommendation.pk}/"
    on_a = Client(servers["A"].port)
    on_a.login(analyst.username, PASSWORD)  # the real login page, on A only

    on_b = on_a.on(servers["B"].port)
    response = on_b.get(page)
    assert response.status == 200, response.headers.get("location")
    assert analyst.username in response.body
    assert recommendation.title in response.body

    # A write on B with the session and CSRF token from A.
    response = on_b.post(f"{page}notes", {"text": "Written on B.", "version": 1})
    assert response.status == 302
    assert response.headers["location"] == page
    assert recommendation.notes.get().text == "Written on B."

    # The control: a server with another SECRET_KEY cannot read the session.
    response = on_a.on(servers["C"].port).get(page)
    assert response.status == 302
    assert response.headers["location"].startswith("/accounts/login/")


def _race(servers, clients, recommendation, to, version) -> list[tuple[str, int, str]]:
    """RACERS status changes from the same base version, half on A and half on B,
    released together once every connection is open."""
    start = threading.Barrier(RACERS)

    def one(i: int) -> tuple[str, int, str]:
        name = "AB"[i % 2]
        client = clients[name]
        rationale = f"Racer {i} on {name}."
        start.wait(timeout=60)
        response = client.post(
            f"/recommendations/{recommendation.pk}/status",
            {"status": to.pk, "rationale": rationale, "version": version},
        )
        return name, response.status, rationale

    with concurrent.futures.ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(one, range(RACERS)))


def test_forty_concurrent_status_changes_across_two_servers_one_wins(servers, analyst):
    first, second, third = make_status("Not started"), make_status("On track"), make_status("X")
    recommendation = make_recommendation(status=first)
    clients = {}
    for name in "AB":
        clients[name] = Client(servers[name].port)
        clients[name].login(analyst.username, PASSWORD)

    winners = []
    # Three rounds, each from the version the previous one left: one winner each time.
    for round_number, to in enumerate([second, third, first]):
        base = Recommendation.objects.get(pk=recommendation.pk).version
        results = _race(servers, clients, recommendation, to, base)

        assert Counter(name for name, _, _ in results) == {"A": RACERS // 2, "B": RACERS // 2}
        statuses = Counter(status for _, status, _ in results)
        assert statuses == {302: 1, 409: RACERS - 1}, (round_number, statuses)
        [winner] = [rationale for _, status, rationale in results if status == 302]
        winners.append(winner)

        current = Recommendation.objects.get(pk=recommendation.pk)
        assert current.version == base + 1
        assert current.status == to

    # The history holds exactly the accepted changes, in order, each from the previous.
    history = list(StatusUpdate.objects.filter(recommendation=recommendation).order_by("version"))
    assert [update.rationale for update in history] == winners
    assert [(u.from_status, u.to_status) for u in history] == [
        (first, second),
        (second, third),
        (third, first),
    ]
    assert all(update.by == analyst for update in history)
    assert not FieldChange.objects.filter(recommendation=recommendation).exists()
