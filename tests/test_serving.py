"""Serving: error pages without internals, collected static files, gunicorn in front."""

import gzip
import http.client
import json
import re
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.template import loader
from django.test import Client

from tests.test_security import production_env
from tracker.tests.helpers import make_recommendation, make_user

ROOT = Path(__file__).resolve().parent.parent

# --- Error pages ---


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_errors")
def test_a_server_error_shows_a_friendly_page_and_no_internals(client):
    client.force_login(make_user())
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    for internal in ("secret-internal-detail", "hunter2", "RuntimeError", "Traceback", "/srv/"):
        assert internal not in page
    assert "'self'" in response["Content-Security-Policy"]


def test_the_500_page_renders_without_a_request_or_the_database():
    # No django_db mark: any query here would fail the test.
    page = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in page
    assert 'href="/static/css/app.css"' in page  # styled like the site, hashed in production


@pytest.mark.django_db
def test_a_missing_page_gets_the_sites_404_page(client):
    client.force_login(make_user(role="Viewer"))
    response = client.get("/recommendations/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert 'aria-label="Main"' in page  # the navigation, to go on from there

    anonymous = Client().get("/no-such-page/")
    assert anonymous.status_code == 404
    assert "Page not found" in anonymous.content.decode()


@pytest.mark.django_db
def test_a_bad_request_gets_the_sites_400_page(client):
    response = client.get("/accounts/login/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    page = response.content.decode()
    assert "This request could not be understood" in page
    assert "attacker.example" not in page


@pytest.mark.django_db
def test_an_expired_form_gets_a_page_that_says_what_to_do(vocabulary):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(role="Analyst"))
    recommendation = make_recommendation()
    response = client.post(
        f"/recommendations/{recommendation.pk}/notes", {"text": "A note.", "version": 1}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page
    assert "<style" not in page  # not Django's built-in page, which the policy would break


# --- Static files and gunicorn, with the production settings ---


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


@pytest.fixture
def production_server(tmp_path):
    """collectstatic into a temporary STATIC_ROOT, then gunicorn with config/gunicorn.py."""
    port = _free_port()
    env = production_env() | {
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert collect.returncode == 0, collect.stderr
    log = (tmp_path / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(port, "/healthz")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"gunicorn did not start:\n{log.read()}")
                time.sleep(0.2)
        yield port, tmp_path / "static", log
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_production_serves_hashed_compressed_static_files_through_gunicorn(production_server):
    port, static_root, log = production_server

    # collectstatic wrote hashed copies, each with a gzip version, and the manifest.
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed_css = manifest["css/app.css"]
    assert re.fullmatch(r"css/app\.[0-9a-f]{12}\.css", hashed_css)
    assert (static_root / hashed_css).is_file()
    assert (static_root / f"{hashed_css}.gz").is_file()
    assert any(name.startswith("admin/") for name in manifest)

    # Plain HTTP is redirected to HTTPS, except the load balancer's health check.
    response, body = _get(port, "/healthz")
    assert response.status == 200
    assert json.loads(body) == {"status": "ok", "database": "up"}
    response, _ = _get(port, "/accounts/login/")
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{port}/accounts/login/"

    # Behind the load balancer (X-Forwarded-Proto: https) the page links the hashed files.
    response, body = _get(port, "/accounts/login/", **{"X-Forwarded-Proto": "https"})
    assert response.status == 200
    page = body.decode()
    assert f'href="/static/{hashed_css}"' in page
    assert re.search(r'src="/static/django_htmx/htmx[^"]*\.[0-9a-f]{12}\.js"', page)
    assert response.getheader("Strict-Transport-Security") == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")
    cookie = response.getheader("Set-Cookie")
    assert "csrftoken=" in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie

    # The file itself: compressed, cached for ever (its name changes with its content).
    response, body = _get(
        port, f"/static/{hashed_css}", **{"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"}
    )
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert "immutable" in response.getheader("Cache-Control")
    assert b".htmx-indicator" in gzip.decompress(body)

    # gunicorn's access log goes to stdout.
    log.flush()
    log.seek(0)
    assert re.search(r'"GET /healthz HTTP/1\.1" 200 \d+ \d+ms', log.read())


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    for name in (
        "GUNICORN_BIND",
        "PORT",
        "WEB_CONCURRENCY",
        "GUNICORN_TIMEOUT",
        "FORWARDED_ALLOW_IPS",
    ):
        monkeypatch.delenv(name, raising=False)
    defaults = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert defaults["bind"] == "0.0.0.0:8000"
    assert defaults["workers"] >= 3  # 2 per core + 1
    assert defaults["timeout"] == 30
    assert defaults["preload_app"] is True
    assert defaults["accesslog"] == "-"
    assert defaults["forwarded_allow_ips"] == "127.0.0.1,::1"

    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "60")
    configured = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert configured["bind"] == "0.0.0.0:9001"
    assert configured["workers"] == 3
    assert configured["timeout"] == 60
