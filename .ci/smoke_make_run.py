"""Smoke test of the README's first command, as a new user would run it.

Clones the committed HEAD into a temporary folder, runs `make run` there (which
creates .venv, installs, migrates, loads the seed and serves), logs in with the
password given through TRACKER_ADMIN_PASSWORD and checks that the dashboard and the
dialogue page show the seed dialogue. Then edits a recommendation, runs `make run` a second time and
checks that the edit survived (the seed loads once). Exits non-zero on failure.
"""

import http.cookiejar
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED_TITLE = "US-ROK Strategic Dialogue"
FIRST_RECOMMENDATION = "The US and ROK should work on a joint vision for the alliance"
DIALOGUE_PAGE = "/dialogues/us-rok-strategic-dialogue-2020/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(clone: Path, port: int, password: str) -> subprocess.Popen:
    env = {**os.environ, "TRACKER_ADMIN_PASSWORD": password, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_until_up(base: str, server: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"make run exited early:\n{server.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise SystemExit("make run did not serve within the time limit")


def stop(server: subprocess.Popen) -> str:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        output, _ = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        output, _ = server.communicate()
    return output


def logged_in_pages(base: str, password: str, *paths: str) -> list[str]:
    """Log in as admin, land on the dashboard, then fetch ``paths``."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/") as response:  # redirected to the login page
        page = response.read().decode()
        assert "/accounts/login/" in response.url, response.url
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": "admin", "password": password, "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request) as response:
        assert response.url == f"{base}/", f"login did not land on /: {response.url}"
        pages = [response.read().decode()]
    for path in paths:
        with opener.open(f"{base}{path}") as response:
            pages.append(response.read().decode())
    return pages


def main() -> None:
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="tracker-smoke-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"

        server = start(clone, port, password)
        try:
            wait_until_up(base, server)
            home, dialogue = logged_in_pages(base, password, DIALOGUE_PAGE)
        finally:
            output = stop(server)
        assert SEED_TITLE in home, "the dashboard does not show the seed dialogue"
        assert FIRST_RECOMMENDATION in dialogue, "the dialogue page lacks the recommendations"
        assert "Created the superuser 'admin'" in output, output
        print("first make run: served the seed dialogue after login")

        edited = "Edited title that a second make run must keep"
        subprocess.run(
            [
                ".venv/bin/python",
                "manage.py",
                "shell",
                "-c",
                "from tracker.models import Recommendation as R; "
                f"R.objects.filter(number=1).update(title={edited!r})",
            ],
            cwd=clone,
            check=True,
            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        )
        server = start(clone, port, password)
        try:
            wait_until_up(base, server)
            _, listing = logged_in_pages(base, password, "/recommendations/")
        finally:
            output = stop(server)
        assert edited in listing, "a second make run lost an edit"
        assert "Seed data already present" in output, output
        print("second make run: kept the data and the edit")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"SMOKE TEST FAILED: {error}", file=sys.stderr)
        sys.exit(1)
