"""A database outage under load: PostgreSQL stops and comes back, gunicorn stays up.

gunicorn serves a PostgreSQL cluster of this test's own (initdb in a temporary folder,
on a free port), so stopping it hurts nobody else's tests. A background thread reads
pages and writes notes without pause, recording every answer. The cluster is stopped
as a crash would stop it (``pg_ctl -m immediate``) for a few seconds, then started
again. The app must answer the 503 page while the database is away, recover by itself,
and every note it acknowledged must be in the database.
"""

import json
import threading
import time
from dataclasses import dataclass

import psycopg
import pytest

from tests.ops.servers import Client, Gunicorn, ThrowawayPostgres, manage, new_secret_key, request

pytestmark = pytest.mark.usefixtures("gunicorn_available", "throwaway_postgres_available")

USERNAME, PASSWORD = "outage-analyst", "Outage-test-password-3"
DOWN_FOR = 3.0  # seconds PostgreSQL stays stopped, at least
LEAKS = ["Traceback", "OperationalError", "InterfaceError", "psycopg", "Error", "5432"]


@dataclass
class Answer:
    kind: str  # "read" or "write"
    path: str
    text: str | None  # the note's text, for writes
    status: int | None
    started: float
    ended: float
    location: str = ""
    retry_after: str | None = None
    body: str = ""
    error: str = ""


@pytest.fixture(scope="module")
def cluster(throwaway_postgres_available):
    pg = ThrowawayPostgres()
    try:
        pg.start()
        db_url = pg.createdb("tracker")
        manage(db_url, "migrate", "--no-input")
        manage(db_url, "load_seed")
        manage(
            db_url,
            "ensure_login",
            env={"TRACKER_ADMIN_USERNAME": USERNAME, "TRACKER_ADMIN_PASSWORD": PASSWORD},
        )
        yield pg, db_url
    finally:
        pg.destroy()


@pytest.fixture(scope="module")
def app(cluster):
    """gunicorn with the project's settings (config/gunicorn.py when there is one), the
    default CONN_MAX_AGE (60 s, with health checks), 2 workers."""
    _, db_url = cluster
    # No recycling after N requests (config/gunicorn.py's max_requests): the test checks
    # that the same workers serve before and after the outage.
    options = ["--workers", "2", "--max-requests", "0"]
    server = Gunicorn(db_url, secret_key=new_secret_key(), options=options)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


class Load(threading.Thread):
    """Reads three pages and writes a note, over and over, recording every answer."""

    def __init__(self, client: Client, pk: int, version: int):
        super().__init__(daemon=True)
        self.client, self.pk, self.version = client, pk, version
        self.answers: list[Answer] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        pages = ["/", f"/recommendations/{self.pk}/", "/recommendations/?status=not-started"]
        n = 0
        while not self.stopping.is_set():
            n += 1
            self.send("read", pages[n % len(pages)], None)
            self.send("write", f"/recommendations/{self.pk}/notes", f"Outage test note {n}.")
            time.sleep(0.01)  # continuous, but leaves the shared cores some air

    def send(self, kind: str, path: str, text: str | None) -> None:
        started = time.monotonic()
        try:
            if text is None:
                response = self.client.get(path)
            else:
                response = self.client.post(path, {"text": text, "version": self.version})
        except OSError as error:
            self.answers.append(
                Answer(kind, path, text, None, started, time.monotonic(), error=repr(error))
            )
            return
        self.answers.append(
            Answer(
                kind,
                path,
                text,
                response.status,
                response.started,
                response.ended,
                location=response.headers.get("location", ""),
                retry_after=response.headers.get("retry-after"),
                body=response.body if response.status != 200 else "",
            )
        )

    def count(self, kind: str, status: int, after: float = 0.0) -> int:
        return sum(
            1 for a in self.answers if a.kind == kind and a.status == status and a.started >= after
        )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_the_app_answers_503_while_postgresql_is_down_and_recovers_without_a_restart(cluster, app):
    pg, db_url = cluster
    with psycopg.connect(db_url) as conn:
        pk, version = conn.execute(
            "SELECT id, version FROM tracker_recommendation ORDER BY id LIMIT 1"
        ).fetchone()
    client = Client(app.port)
    client.login(USERNAME, PASSWORD)
    detail = f"/recommendations/{pk}/"

    load = Load(client, pk, version)
    load.start()
    try:
        wait_for(lambda: load.count("write", 302) >= 5, 60, "notes written before the outage")
        master, workers = app.pid, app.workers()
        assert len(workers) == 2

        stopped_at = time.monotonic()
        pg.stop("immediate")
        down_at = time.monotonic()
        health = request(app.port, "GET", "/healthz")
        assert health.status == 503
        assert json.loads(health.body) == {"status": "unavailable", "database": "down"}
        wait_for(
            lambda: (
                time.monotonic() - down_at >= DOWN_FOR
                and load.count("write", 503, down_at) >= 3
                and load.count("read", 503, down_at) >= 3
            ),
            30,
            "503 answers while PostgreSQL is down",
        )

        restart_at = time.monotonic()
        pg.start()
        started_at = time.monotonic()
        wait_for(
            lambda: request(app.port, "GET", "/healthz").status == 200, 30, "/healthz back to 200"
        )
        healthy_at = time.monotonic()
        wait_for(
            lambda: (
                load.count("write", 302, healthy_at) >= 5
                and load.count("read", 200, healthy_at) >= 5
            ),
            60,
            "reads and writes after PostgreSQL came back",
        )
    finally:
        load.stopping.set()
        load.join(timeout=60)

    answers = load.answers
    first_503 = min(a.ended for a in answers if a.status == 503)
    first_write_after = min(
        a.ended
        for a in answers
        if a.kind == "write" and a.status == 302 and a.started >= restart_at
    )
    print(
        f"\n{len(answers)} requests, {sum(a.status == 503 for a in answers)} answered 503; "
        f"first 503 {1000 * (first_503 - stopped_at):.0f} ms after the stop began; "
        f"down {restart_at - stopped_at:.1f} s; pg_ctl start took {started_at - restart_at:.1f} s; "
        f"/healthz 200 {1000 * (healthy_at - started_at):.0f} ms after it; "
        f"first note saved {1000 * (first_write_after - started_at):.0f} ms after it"
    )

    # Nothing but success or the outage page; no connection ever dropped by gunicorn.
    assert not [a for a in answers if a.error], [a.error for a in answers if a.error][:3]
    assert {a.status for a in answers} <= {200, 302, 503}
    # A success is a real one: a redirect back to the page, never to the login page.
    for a in answers:
        if a.status == 302:
            assert a.kind == "write" and a.location == detail, a

    outage = [a for a in answers if a.status == 503]
    assert {a.kind for a in outage} == {"read", "write"}
    for a in outage:
        # Only while the database was away...
        assert a.ended >= stopped_at and a.started <= healthy_at, a
        # ...and the friendly page, with nothing of the error in it.
        assert "<title>Temporarily unavailable · Recommendation Tracker</title>" in a.body
        assert a.retry_after == "10"
        for leak in LEAKS:
            assert leak not in a.body, (leak, a.body)
    # Once /healthz says 200, everything works again: the workers reconnected by themselves.
    assert all(a.status in (200, 302) for a in answers if a.started >= healthy_at)

    # gunicorn was not restarted: the same master and the same workers.
    assert app.process.poll() is None
    assert app.pid == master
    assert app.workers() == workers
    assert client.get(detail).status == 200

    # Every note acknowledged (302) is in the database; none was written twice.
    acknowledged = [a.text for a in answers if a.kind == "write" and a.status == 302]
    with psycopg.connect(db_url) as conn:
        stored = [
            row[0]
            for row in conn.execute(
                "SELECT text FROM tracker_note WHERE recommendation_id = %s", [pk]
            )
        ]
    assert set(acknowledged) <= set(stored)
    assert len(stored) == len(set(stored))
