"""Security settings: CSP and headers, cookies, sessions, passwords, login throttling, logs."""

import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import Client, RequestFactory
from django.utils import timezone

from tracker.security import SESSION_LOGIN_AT, SESSION_TOUCHED, client_ip
from tracker.tests.helpers import make_recommendation, make_user

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"
STRONG_KEY = "k3P9x-" + "Zq81vLm0aT" * 6


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def log_in(client: Client, username: str, password: str, ip: str = "10.0.0.1", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def fail_until_locked(client: Client, username: str, ip: str = "10.0.0.1", **extra) -> None:
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        log_in(client, username, "wrong-password", ip, **extra)


# --- Content Security Policy and headers ---


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_strict_content_security_policy(client, vocabulary):
    recommendation = make_recommendation()
    anonymous = Client()
    responses = {
        "login page": anonymous.get(LOGIN),
        "health check": anonymous.get("/healthz"),
        "static file": anonymous.get("/static/css/app.css"),
    }
    client.force_login(make_user(is_superuser=True, is_staff=True))
    responses |= {
        "dashboard": client.get("/"),
        "list fragment (htmx)": client.get("/recommendations/", headers={"HX-Request": "true"}),
        "detail": client.get(f"/recommendations/{recommendation.pk}/"),
        "admin change form": client.get(
            f"/admin/tracker/recommendation/{recommendation.pk}/change/"
        ),
        "not found": client.get("/no-such-page/"),
    }
    for what, response in responses.items():
        assert response.status_code in {200, 404}, what
        directives = policy(response)
        assert directives["default-src"] == ["'self'"], what
        assert directives["script-src"] == ["'self'"], what
        assert directives["style-src"] == ["'self'"], what
        assert directives["object-src"] == ["'none'"], what
        assert directives["base-uri"] == ["'none'"], what
        assert directives["frame-ancestors"] == ["'none'"], what
        assert directives["form-action"] == ["'self'"], what
        header = response["Content-Security-Policy"]
        assert "unsafe-inline" not in header and "unsafe-eval" not in header, what


def test_the_policy_in_settings_allows_nothing_unsafe():
    text = json.dumps(django_settings.CONTENT_SECURITY_POLICY)
    assert "unsafe" not in text


@pytest.mark.django_db
def test_pages_send_the_other_security_headers(client):
    response = client.get(LOGIN)
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


TEMPLATE_DIRS = [
    ROOT / "templates",
    ROOT / "tracker" / "templates",
    ROOT / "dialogue" / "templates",
]
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "hx-on": re.compile(r"hx-on", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "js: in hx-vals": re.compile(r"""hx-va(ls|rs)\s*=\s*['"]\s*(js|javascript):""", re.IGNORECASE),
}


def test_our_templates_need_nothing_the_policy_forbids():
    templates = [path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html")]
    assert len(templates) > 10
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in templates
        for what, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]
    assert found == []


def test_python_code_writes_no_inline_styles_or_scripts():
    sources = [
        path
        for app in ("tracker", "dialogue", "config")
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in sources
        for what in ("style attribute", "inline script", "event handler attribute")
        if INLINE[what].search(path.read_text())
    ]
    assert found == []


@pytest.mark.django_db
def test_htmx_is_configured_to_need_no_eval_and_no_inline_styles(client):
    html = client.get(LOGIN).content.decode()
    meta = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", html)
    config = json.loads(meta.group(1))
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    # The indicator styles htmx would have injected come from our stylesheet instead.
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert ".htmx-request .htmx-indicator" in css
    assert ".htmx-indicator" in css


# --- Cookies and sessions ---


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_http_only_and_same_site():
    make_user("cora")
    client = Client()
    csrf = client.get(LOGIN).cookies["csrftoken"]
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"
    session = log_in(client, "cora", "pw-cora").cookies["sessionid"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert session["max-age"] == 60 * 60  # an hour without a request ends it


def production_env() -> dict[str, str]:
    """The environment of a production process (conftest.py relaxes async safety)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return env | {"DJANGO_SETTINGS_MODULE": "config.production", "SECRET_KEY": STRONG_KEY}


def _production_settings(*names: str) -> dict:
    env = production_env()
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_and_https_is_enforced():
    values = _production_settings(
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "DEBUG",
        "CONTENT_SECURITY_POLICY",
        "TRACKER_TRUSTED_PROXIES",
    )
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_HTTPONLY"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["DEBUG"] is False
    # The same policy as everywhere else (the JSON round trip turns tuples into lists).
    expected = json.loads(json.dumps(django_settings.CONTENT_SECURITY_POLICY))
    assert values["CONTENT_SECURITY_POLICY"] == expected
    assert values["TRACKER_TRUSTED_PROXIES"] == 1


def test_check_deploy_is_clean_under_production_settings():
    env = production_env()
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_a_session_is_saved_at_most_once_a_minute_not_on_every_request(client):
    client.force_login(make_user())
    assert "sessionid" not in client.get("/healthz").cookies  # touched at login: no write

    session = client.session
    session[SESSION_TOUCHED] -= 2 * 60
    session.save()
    cookie = client.get("/healthz").cookies["sessionid"]
    assert cookie["max-age"] == 60 * 60  # extended by the request
    expiry = Session.objects.get(session_key=client.session.session_key).expire_date
    assert expiry > timezone.now() + timedelta(minutes=59)
    assert "sessionid" not in client.get("/healthz").cookies


@pytest.mark.django_db
def test_an_hour_without_a_request_ends_the_session(client):
    client.force_login(make_user())
    assert client.get("/people/").status_code == 200
    # Last saved 59 minutes ago (the expiry is the save plus SESSION_COOKIE_AGE): still in.
    last_save = timezone.now() - timedelta(minutes=59)
    session = Session.objects.filter(session_key=client.session.session_key)
    session.update(expire_date=last_save + timedelta(seconds=django_settings.SESSION_COOKIE_AGE))
    assert client.get("/people/").status_code == 200
    # Last saved 61 minutes ago: out.
    last_save = timezone.now() - timedelta(minutes=61)
    session.update(expire_date=last_save + timedelta(seconds=django_settings.SESSION_COOKIE_AGE))
    response = client.get("/people/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_a_login_ends_after_twelve_hours_however_active(client):
    client.force_login(make_user())
    session = client.session
    session[SESSION_LOGIN_AT] = int(time.time()) - 12 * 3600 + 60
    session[SESSION_TOUCHED] = int(time.time())
    session.save()
    assert client.get("/people/").status_code == 200  # 11h59 in: still in

    session = client.session
    session[SESSION_LOGIN_AT] = int(time.time()) - 12 * 3600 - 1
    session.save()
    response = client.get("/people/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get("/people/").status_code == 302  # logged out for good


@pytest.mark.django_db
def test_a_session_without_a_login_time_logs_in_again(client):
    """Sessions from before the absolute limit existed are of unknown age."""
    client.force_login(make_user())
    session = client.session
    del session[SESSION_LOGIN_AT]
    session.save()
    response = client.get("/people/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_htmx_request_after_the_session_ended_gets_401_not_the_login_page(client, method):
    rec = make_recommendation()
    url = f"/recommendations/{rec.pk}/notes" if method == "post" else "/recommendations/"
    response = getattr(client, method)(url, {"text": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response["X-Tracker-Error"] == "session-ended"
    assert b"<html" not in response.content
    plain = getattr(client, method)(url, {"text": "x"})  # without htmx: the login page
    assert plain.status_code == 302 and plain["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_a_csrf_failure_is_marked_for_htmx_and_explains_itself(vocabulary):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(role="Analyst"))
    rec = make_recommendation()
    response = client.post(
        f"/recommendations/{rec.pk}/notes", {"text": "x"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 403
    assert response["X-Tracker-Error"] == "csrf"
    assert "reload" in response.content.decode().lower()


# --- Passwords ---


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Xk4-q", "too short"),
        ("password123", "too common"),
        ("8240571936412", "entirely numeric"),
        ("analyst.smith", "too similar"),
    ],
)
def test_weak_passwords_are_refused(password, reason):
    user = make_user("analyst.smith", email="analyst.smith@example.org")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert reason in " ".join(refused.value.messages)


@pytest.mark.django_db
def test_a_strong_password_is_accepted():
    validate_password("harbour-lantern-quietly-47", make_user())


# --- Login throttling ---


@pytest.mark.django_db
def test_repeated_failures_lock_that_username_out_from_that_address(client):
    make_user("ana")
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        response = log_in(client, "ana", "wrong-password")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    response = log_in(client, "ana", "wrong-password")
    assert response.status_code == 429
    # Locked: even the right password is refused, with a page that says why and how long.
    response = log_in(client, "ana", "pw-ana")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "paused for 15 minutes" in page
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_locked_username_can_still_log_in_from_another_address(client):
    make_user("ana")
    fail_until_locked(Client(), "ana", ip="203.0.113.66")
    response = log_in(client, "ana", "pw-ana", ip="198.51.100.20")
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_a_locked_address_can_still_log_in_another_user(client):
    make_user("ana")
    make_user("ben")
    fail_until_locked(Client(), "ana")
    assert log_in(client, "ben", "pw-ben").status_code == 302


@pytest.mark.django_db
def test_the_lock_lifts_after_the_cool_off_and_each_try_restarts_it(client):
    make_user("ana")
    fail_until_locked(client, "ana")

    def age_attempts(minutes: int) -> None:
        AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))

    age_attempts(14)
    assert log_in(client, "ana", "pw-ana").status_code == 429  # and the wait starts again
    age_attempts(14)
    assert log_in(client, "ana", "pw-ana").status_code == 429
    age_attempts(16)
    assert log_in(client, "ana", "pw-ana").status_code == 302


@pytest.mark.django_db
def test_the_cool_off_time_comes_from_the_settings(client, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    make_user("ana")
    fail_until_locked(client, "ana")
    assert "paused for 1 minute." in log_in(client, "ana", "pw-ana").content.decode()
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=61))
    assert log_in(client, "ana", "pw-ana").status_code == 302


@pytest.mark.django_db
def test_a_successful_login_clears_the_failures(client):
    make_user("ana")
    limit = django_settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        log_in(client, "ana", "wrong-password")
    assert log_in(client, "ana", "pw-ana").status_code == 302
    client.logout()
    for _ in range(limit - 1):
        assert log_in(client, "ana", "wrong-password").status_code == 200
    assert log_in(client, "ana", "pw-ana").status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_throttled_too(client):
    make_user("ed", is_staff=True)
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "ed", "password": "nope"}, REMOTE_ADDR="10.0.0.9")
    response = client.post(
        "/admin/login/", {"username": "ed", "password": "pw-ed"}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_a_username_longer_than_any_account_fails_and_is_throttled_not_a_500(client, path):
    """axes' column holds 255 characters: the failure is counted under the first 255, on
    PostgreSQL too (it refused the longer value: a 500), and locks that pair out as usual."""
    name = "x" * 300
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(path, {"username": name, "password": "p"}, REMOTE_ADDR="10.0.0.7")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    assert AccessAttempt.objects.get().username == "x" * 255
    response = client.post(path, {"username": name, "password": "p"}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 429


@pytest.mark.django_db
def test_the_password_is_not_stored_with_the_failed_attempt(client):
    make_user("ana")
    log_in(client, "ana", "my-Secret-guess-42")
    attempt = AccessAttempt.objects.get(username="ana")
    assert "my-Secret-guess-42" not in attempt.post_data
    assert attempt.ip_address == "10.0.0.1"


@pytest.mark.django_db
def test_the_test_clients_login_still_works_with_throttling_on(client):
    make_user("ana")
    assert client.login(username="ana", password="wrong") is False
    assert client.login(username="ana", password="pw-ana") is True
    assert client.get("/people/").status_code == 200


def test_the_client_address_is_remote_addr_unless_behind_trusted_proxies(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.7"
    )
    settings.TRACKER_TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.1.1.1"  # the header is the client's to invent
    settings.TRACKER_TRUSTED_PROXIES = 1
    assert client_ip(request) == "198.51.100.7"  # what our load balancer appended
    settings.TRACKER_TRUSTED_PROXIES = 2
    assert client_ip(request) == "203.0.113.5"
    settings.TRACKER_TRUSTED_PROXIES = 3
    assert client_ip(request) == "10.1.1.1"  # fewer hops than proxies: trust none
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.1.1.1")) == "10.1.1.1"


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # Straight from the internet to an app server: the header is the caller's own.
        ("203.0.113.9", "198.51.100.7", "203.0.113.9"),
        # From the load balancer: what it appended, with or without a port.
        ("10.0.0.254", "198.51.100.7:51234", "198.51.100.7"),
        ("10.0.0.254", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.254", "2001:db8::1", "2001:db8::1"),
        # Not an address: the load balancer's own.
        ("10.0.0.254", "unknown", "10.0.0.254"),
        ("10.0.0.254", "<script>", "10.0.0.254"),
    ],
)
def test_the_forwarded_address_is_believed_only_from_a_proxy_and_only_if_it_is_one(
    settings, remote, forwarded, expected
):
    settings.TRACKER_TRUSTED_PROXIES = 1
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_a_caller_reaching_an_app_server_directly_cannot_escape_the_lock(settings):
    settings.TRACKER_TRUSTED_PROXIES = 1
    make_user("eve")
    outside = "203.0.113.9"
    fail_until_locked(Client(), "eve", ip=outside, HTTP_X_FORWARDED_FOR="198.51.100.1")
    for forged in ["198.51.100.2", "192.0.2.3", "10.9.9.9"]:
        response = log_in(Client(), "eve", "pw-eve", ip=outside, HTTP_X_FORWARDED_FOR=forged)
        assert response.status_code == 429, forged


@pytest.mark.django_db
def test_behind_the_load_balancer_a_forged_forwarded_for_does_not_escape_the_lock(settings):
    settings.TRACKER_TRUSTED_PROXIES = 1
    make_user("dee")
    lb = "10.0.0.254"  # every request reaches us from the load balancer
    fail_until_locked(Client(), "dee", ip=lb, HTTP_X_FORWARDED_FOR="198.51.100.7")
    forged = log_in(
        Client(), "dee", "pw-dee", ip=lb, HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.7"
    )
    assert forged.status_code == 429
    elsewhere = log_in(Client(), "dee", "pw-dee", ip=lb, HTTP_X_FORWARDED_FOR="192.0.2.44")
    assert elsewhere.status_code == 302


# --- The security log ---


def refusals(caplog) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "tracker.security" and r.getMessage().startswith("permission refused")
    ]


@pytest.mark.django_db
def test_logins_failures_and_lockouts_are_logged_without_the_password(client, caplog):
    caplog.set_level(logging.DEBUG)
    make_user("ana")
    log_in(client, "ana", "pw-ana", ip="192.0.2.10")
    client.logout()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        log_in(client, "ana", "Hunter2-wrong", ip="192.0.2.11")

    security = [r for r in caplog.records if r.name == "tracker.security"]
    messages = [r.getMessage() for r in security]
    assert "login succeeded: username='ana' ip=192.0.2.10" in messages
    failures = [m for m in messages if m == "login failed: username='ana' ip=192.0.2.11"]
    assert len(failures) == django_settings.AXES_FAILURE_LIMIT
    assert "login locked out: username='ana' ip=192.0.2.11" in messages
    assert {r.levelname for r in security if "failed" in r.getMessage()} == {"WARNING"}
    assert "Hunter2-wrong" not in caplog.text
    assert "pw-ana" not in caplog.text


@pytest.mark.django_db
def test_a_refused_action_is_logged_with_user_path_and_permission(client, caplog):
    recommendation = make_recommendation()
    client.force_login(make_user("vic", role="Viewer"))
    path = f"/recommendations/{recommendation.pk}/status"
    with caplog.at_level(logging.INFO, logger="tracker.security"):
        response = client.post(path, {"rationale": "x"}, REMOTE_ADDR="192.0.2.30")
    assert response.status_code == 403
    assert "You are not allowed to do this" in response.content.decode()
    (record,) = refusals(caplog)
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        f"permission refused: user='vic' ip=192.0.2.30 method=POST path='{path}' "
        "permission=tracker.track_recommendation"
    )


@pytest.mark.django_db
def test_a_refused_admin_page_is_logged_with_the_permissions_checked(client, caplog):
    client.force_login(make_user("stan", is_staff=True))
    with caplog.at_level(logging.INFO, logger="tracker.security"):
        assert client.get("/admin/tracker/recommendation/").status_code == 403
    (record,) = refusals(caplog)
    message = record.getMessage()
    assert "user='stan'" in message
    assert "path='/admin/tracker/recommendation/'" in message
    assert "tracker.view_recommendation" in message
    assert "tracker.change_recommendation" in message


@pytest.mark.django_db
def test_permission_checks_that_are_granted_or_only_shown_are_not_logged(client, caplog):
    recommendation = make_recommendation()
    client.force_login(make_user("vic", role="Viewer"))
    with caplog.at_level(logging.INFO, logger="tracker.security"):
        # The detail page asks whether to show the actions; a viewer just doesn't see them.
        assert client.get(f"/recommendations/{recommendation.pk}/").status_code == 200
    assert refusals(caplog) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/password_reset/", "/accounts/reset/MQ/set-password/", "/accounts/signup/"]
)
def test_there_is_no_anonymous_password_reset(client, path):
    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "ana@example.org"}).status_code in (403, 404)


@pytest.mark.django_db
def test_a_user_can_change_their_own_password(client):
    client.force_login(make_user("ana"))
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "pw-ana",
            "new_password1": "harbour-lantern-quietly-47",
            "new_password2": "harbour-lantern-quietly-47",
        },
    )
    assert response.status_code == 302
    assert Client().login(username="ana", password="harbour-lantern-quietly-47")
