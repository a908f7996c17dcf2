"""Real mail servers for the e-mail connector's tests: a throwaway Dovecot (IMAP) and an aiosmtpd SMTP server.

``DovecotServer.start(tmp)`` writes a Dovecot configuration under ``tmp`` (IMAP only, on a free high port on
127.0.0.1, plain authentication without TLS, users in a passwd-file, Maildir under ``tmp``), starts ``dovecot -F``
and waits until it greets. ``deliver(user, raw)`` hands a message to ``dovecot-lda``, Dovecot's own local delivery
agent, exactly as a mail server's final hop does. When Dovecot is not installed the fixtures skip with the reason,
except under CI (``CI=true``) where they fail: ``.ci/run`` installs ``dovecot-imapd``.

``SmtpSink`` is an aiosmtpd ``Controller`` that keeps every message it accepts (envelope and parsed headers) and
requires the password it was given (AUTH PLAIN/LOGIN over the plain connection, allowed for 127.0.0.1 only).
"""

from __future__ import annotations

import email
import email.policy
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
LDA_CANDIDATES = ("/usr/lib/dovecot/dovecot-lda", "/usr/libexec/dovecot/dovecot-lda")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_binary(path: str | None, what: str) -> str:
    if path and os.path.exists(path):
        return path
    reason = f"{what} is not installed (apt-get install -y dovecot-imapd)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + ": it is required under CI")
    pytest.skip(reason)
    raise AssertionError  # unreachable


def _mail_uid() -> tuple[int, int]:
    """Dovecot refuses to run mail processes as root: the users' mail belongs to ``nobody`` (or us, if not root)."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


@dataclass
class DovecotServer:
    root: Path
    port: int
    users: dict[str, str]
    process: subprocess.Popen | None = None
    lda: str = ""

    @classmethod
    def start(cls, root: Path, users: dict[str, str]) -> DovecotServer:
        require_binary(DOVECOT, "Dovecot")
        lda = next((p for p in LDA_CANDIDATES if os.path.exists(p)), None)
        lda = require_binary(lda, "dovecot-lda")
        server = cls(root=root, port=free_port(), users=dict(users), lda=lda)
        server._write_config()
        server.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(server.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                err = server.process.stderr.read().decode(errors="replace") if server.process.stderr else ""
                raise RuntimeError(f"dovecot exited: {err}\n{server.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", server.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return server
            except OSError:
                time.sleep(0.1)
        server.stop()
        raise RuntimeError(f"dovecot did not answer on port {server.port}\n{server.log_text()}")

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def log_text(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def _write_config(self) -> None:
        uid, gid = _mail_uid()
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "mail").chmod(0o777)
        self.root.chmod(0o755)
        passwd = "".join(
            f"{user}:{{PLAIN}}{password}:{uid}:{gid}::{self.root / 'mail' / user}::\n"
            for user, password in self.users.items()
        )
        (self.root / "passwd").write_text(passwd)
        (self.root / "passwd").chmod(0o644)
        self.config.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.root / 'run'}
state_dir = {self.root / 'state'}
log_path = {self.root / 'dovecot.log'}
info_log_path = {self.root / 'dovecot.log'}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root / 'passwd'}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.root / 'passwd'}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol lda {{
  postmaster_address = postmaster@example.test
}}
""")

    def deliver(self, user: str, raw: bytes) -> None:
        """Local delivery through ``dovecot-lda`` (what an MTA's last hop runs)."""
        done = subprocess.run([self.lda, "-c", str(self.config), "-d", user], input=raw, timeout=20, check=False,
                              capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"dovecot-lda exited {done.returncode}: {done.stderr.decode(errors='replace')}\n"
                               f"{self.log_text()[-1500:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: email.message.EmailMessage = field(repr=False)


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 keeping what it receives; AUTH required when ``password`` is."""

    def __init__(self, username: str = "support@example.test", password: str = "smtp-secret") -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.username, self.password = username, password
        self.received: list[ReceivedMail] = []
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                data = envelope.original_content or envelope.content
                message = email.message_from_bytes(data, policy=email.policy.default)
                with sink._lock:
                    sink.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), data, message))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == sink.username and auth_data.password.decode() == sink.password)
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

        self.port = free_port()
        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticator,
            auth_require_tls=False, auth_required=True,  # plain AUTH: loopback only, on purpose
        )

    def start(self) -> SmtpSink:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning)
            self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
