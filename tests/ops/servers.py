"""Real servers for the operations tests and the load script: gunicorn, a throwaway
PostgreSQL cluster, and a tiny HTTP client that logs in through the login page.

Nothing here needs pytest: ``.ci/load`` uses it too.
"""

from __future__ import annotations

import contextlib
import glob
import html
import http.client
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
GUNICORN_CONFIG = ROOT / "config" / "gunicorn.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL's binaries (initdb, pg_ctl), if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def missing_for_gunicorn() -> str | None:
    if not GUNICORN.exists():
        return f"{GUNICORN} is missing (make install)"
    return None


def missing_for_throwaway_postgres() -> str | None:
    if postgres_bindir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are missing: apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, but there is no 'postgres' user to run initdb and pg_ctl"
        if not shutil.which("runuser"):
            return "running as root, but runuser (util-linux) is missing"
    return None


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django's ``settings_dict`` names."""
    user = urllib.parse.quote(settings_dict.get("USER") or "", safe="")
    password = urllib.parse.quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def manage(db_url: str, *args: str, env: dict | None = None, timeout: float = 600) -> str:
    """Run ``manage.py`` against ``db_url`` in a process of its own."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": db_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Gunicorn:
    """gunicorn serving ``config.wsgi`` on a free port of 127.0.0.1.

    Uses ``config/gunicorn.py`` when the project has one; ``options`` (``--workers 2``...)
    go on the command line, which gunicorn lets override the file.
    """

    def __init__(self, db_url: str, *, secret_key: str, options: list[str] | None = None):
        self.port = free_port()
        self.log_path = Path(tempfile.mkstemp(prefix="tracker-gunicorn-", suffix=".log")[1])
        command = [str(GUNICORN)]
        if GUNICORN_CONFIG.exists():
            command += ["-c", str(GUNICORN_CONFIG)]
        command += [
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--error-logfile",
            "-",
            *(options or []),
        ]
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST_", "TRACKER_EXPECT"))
        }
        env |= {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": db_url,
            "SECRET_KEY": secret_key,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            with contextlib.suppress(OSError):
                if request(self.port, "GET", "/healthz", timeout=5).status == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not answer /healthz in {timeout} s:\n{self.log()}")
        # The first worker may answer while the master is still forking the others.
        seen, stable_since = self.workers(), time.monotonic()
        while time.monotonic() - stable_since < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.workers()
            if now != seen:
                seen, stable_since = now, time.monotonic()

    def workers(self) -> set[int]:
        """The worker processes' ids (children of the master), from /proc."""
        children = set()
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError):
                text = Path(stat).read_text()
                # pid (comm) state ppid ...: comm may hold spaces, so split after ")".
                if int(text.rsplit(")", 1)[1].split()[1]) == self.pid:
                    children.add(int(text.split(" ", 1)[0]))
        return children

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log_path.unlink(missing_ok=True)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]
    body: str
    started: float = 0.0
    ended: float = 0.0


def request(
    port: int,
    method: str,
    path: str,
    *,
    data: dict | None = None,
    headers: dict | None = None,
    timeout: float = 30,
) -> Response:
    """One request on a fresh connection (gunicorn's sync workers close it anyway)."""
    body = urllib.parse.urlencode(data) if data is not None else None
    headers = dict(headers or {})
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body, headers)
        raw = conn.getresponse()
        text = raw.read().decode("utf-8", errors="replace")
    finally:
        conn.close()
    cookies = {}
    for line in raw.msg.get_all("Set-Cookie") or []:
        name, _, rest = line.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return Response(
        raw.status,
        {k.lower(): v for k, v in raw.getheaders()},
        cookies,
        text,
        started,
        time.monotonic(),
    )


_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Client:
    """A browser's worth of state: cookies (shared by every port of 127.0.0.1, as a
    browser shares them) and the CSRF token of the last form seen."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    csrf_token: str = ""

    def on(self, port: int) -> Client:
        """The same browser talking to another server."""
        return Client(port, dict(self.cookies), self.csrf_token)

    def _headers(self, extra: dict | None = None) -> dict:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items() if v != '""')
        return {**({"Cookie": cookie} if cookie else {}), **(extra or {})}

    def send(self, method: str, path: str, data: dict | None = None, **kwargs) -> Response:
        if data is not None:
            data = {"csrfmiddlewaretoken": self.csrf_token, **data}
        response = request(
            self.port, method, path, data=data, headers=self._headers(kwargs.pop("headers", None))
        )
        self.cookies.update(response.cookies)
        if match := _TOKEN.search(response.body):
            self.csrf_token = html.unescape(match.group(1))
        return response

    def get(self, path: str) -> Response:
        return self.send("GET", path)

    def post(self, path: str, data: dict, **kwargs) -> Response:
        return self.send("POST", path, data, **kwargs)

    def login(self, username: str, password: str) -> Response:
        """Log in through the real login page; raises unless it redirects away from it."""
        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"username": username, "password": password})
        location = response.headers.get("location", "")
        if response.status != 302 or "/accounts/login/" in location:
            raise RuntimeError(f"login as {username} failed: {response.status}")
        # Logging in rotates the CSRF token: take the new one from the page we land on.
        landing = self.get(urllib.parse.urlsplit(location).path or "/")
        if landing.status != 200:
            raise RuntimeError(f"after logging in, {location} answered {landing.status}")
        return response


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary folder, a free port), so
    a test can stop the database without touching anybody else's."""

    def __init__(self):
        self.bindir = postgres_bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.logfile = self.dir / "postgres.log"
        if os.geteuid() == 0:
            # initdb refuses to run as root; the cluster belongs to postgres.
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, program: str, *args: str) -> str:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed:\n{result.stdout}\n{result.stderr}\n{self.log()}")
        return result.stdout

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -h 127.0.0.1"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.logfile), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True).returncode == 0

    def createdb(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.running():
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
