"""The ``email`` connector: a support mailbox read over IMAP, answered over SMTP (see docs/connectors/email.md).

Account: ``external_id`` and ``handle`` are the mailbox's address. Credentials (stored encrypted by the assets
services): ``imap_password`` and ``smtp_password`` (the IMAP one when absent). Config: see ``config_schema``.

Inbound (``poll_cursor``): the mailbox is opened read-only (EXAMINE; messages are fetched with BODY.PEEK, so
nothing is marked, moved or deleted). The cursor is ``{"uidvalidity", "last_uid"}``: only UIDs above ``last_uid``
are fetched, at most ``batch_size`` a poll (``more`` says when more wait). A UIDVALIDITY change (the mailbox was
rebuilt) restarts from the backfill window; the inbox deduplicates by Message-ID, so nothing doubles. The first poll
reads the last ``backfill_days`` days (0: only mail arriving from now on). Messages over ``max_message_bytes`` arrive
with their headers and a note; a message that cannot be parsed at all is returned in ``rejected``.

Outbound (``send_reply``): a ``text/plain`` reply with ``Subject: Re: <original>``, ``In-Reply-To`` the customer's
Message-ID and ``References`` its chain plus that id (read back from the mailbox by Message-ID), a Message-ID
derived from the idempotency key (a retried send carries the same id, so clients show it once), sent through SMTP;
its Message-ID is the reply's external id, which is what the customer's next message will point to. A copy is
appended to ``sent_folder`` when one is configured.

Push (``stream``, IMAP IDLE, RFC 2177): when the server offers IDLE and ``idle`` is on, ``dandelion stream`` keeps one
more connection per mailbox, EXAMINEs it and IDLEs; each ``EXISTS`` the server pushes (new mail) yields a
``StreamBatch(poll=True)``: the caller polls with the cursor above (UID-based, so a push seen twice fetches nothing
twice). IDLE is ended and started again every ``idle_renew_s`` (25 min by default: servers may drop an IDLE after
30), and an empty batch is yielded every second or so, so the caller can stop it. A dropped connection raises a
transient ``ConnectorError`` (the caller reconnects with backoff and polls to catch up).

Errors: authentication failures, a missing mailbox, refused recipients and other 5xx answers are permanent;
timeouts, dropped connections and 4xx answers are transient.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import imaplib
import ipaddress
import logging
import re
import select
import smtplib
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from email.message import EmailMessage
from typing import Any, ClassVar, Self

from dandelion.connectors.base import (
    AccountRef,
    Capability,
    CheckResult,
    ConfigField,
    Connector,
    InboundEvent,
    OutboundReply,
    PollResult,
    RejectedItem,
    SentMessage,
    StreamBatch,
    utcnow,
)
from dandelion.connectors.email.parse import message_ids, parse_message
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.registry import register
from dandelion.connectors.tolerant import clean_text

logger = logging.getLogger(__name__)

SECURITY = ("ssl", "starttls", "none")
MIN_POLL_INTERVAL_S = 15
_UID_RE = re.compile(rb"UID (\d+)")
_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")
_EXISTS_RE = re.compile(rb"^\* (\d+) EXISTS\b", re.IGNORECASE)
#: IDLE is renewed before servers drop it (RFC 2177: clients re-issue it at least every 29 minutes).
IDLE_RENEW_MAX_S = 29 * 60
#: Longest wait for one line of the server while idling; how often ``stream`` yields a heartbeat.
IDLE_TICK_S = 1.0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Imap:
    """One IMAP session with errors mapped onto ``ConnectorError``."""

    def __init__(self, account: AccountRef, config: Mapping[str, Any]) -> None:
        self.account, self.config = account, config
        self.conn: imaplib.IMAP4 | None = None

    def __enter__(self) -> Self:
        c = self.config
        host, port, timeout = c["imap_host"], c["imap_port"], c["timeout_s"]
        try:
            if c["imap_security"] == "ssl":
                self.conn = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=timeout)
            else:
                self.conn = imaplib.IMAP4(host, port, timeout=timeout)
                if c["imap_security"] == "starttls":
                    self.conn.starttls(ssl.create_default_context())
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ConnectorError(f"cannot reach IMAP server {host}:{port}: {exc}") from exc
        password = self.account.credentials.get("imap_password") or ""
        if not password:
            raise ConnectorError("no imap_password stored for this account", permanent=True)
        try:
            self.conn.login(c.get("imap_username") or self.account.external_id, password)
        except imaplib.IMAP4.abort as exc:
            raise ConnectorError(f"IMAP connection dropped during login: {exc}") from exc
        except imaplib.IMAP4.error as exc:
            raise ConnectorError(f"IMAP login refused: {_text(exc)}", permanent=True) from exc
        except OSError as exc:
            raise ConnectorError(f"IMAP login failed: {exc}") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.logout()

    def call(self, what: str, fn, *args) -> list[Any]:
        try:
            typ, data = fn(*args)
        except imaplib.IMAP4.abort as exc:
            raise ConnectorError(f"IMAP {what}: connection dropped: {exc}") from exc
        except (TimeoutError, OSError) as exc:
            raise ConnectorError(f"IMAP {what}: {exc}") from exc
        except imaplib.IMAP4.error as exc:
            raise ConnectorError(f"IMAP {what} failed: {_text(exc)}", permanent=True) from exc
        if typ != "OK":
            raise ConnectorError(f"IMAP {what} failed: {_text(data)}", permanent=True)
        return data

    def examine(self, mailbox: str) -> tuple[int, int, int]:
        """Open ``mailbox`` read-only; ``(uidvalidity, uidnext, message count)``."""
        assert self.conn is not None
        data = self.call(f"EXAMINE {mailbox}", self.conn.select, _quote(mailbox), True)
        count = int(data[0] or 0) if data and data[0] else 0
        uidvalidity = int((self.conn.response("UIDVALIDITY")[1] or [b"0"])[-1] or 0)
        uidnext = int((self.conn.response("UIDNEXT")[1] or [b"0"])[-1] or 0)
        if not uidnext:  # some servers only answer STATUS
            status = self.call("STATUS", self.conn.status, _quote(mailbox), "(UIDNEXT)")
            m = re.search(rb"UIDNEXT (\d+)", status[0] or b"")
            uidnext = int(m.group(1)) if m else 0
        return uidvalidity, uidnext, count

    def uid(self, what: str, *args: str) -> list[Any]:
        assert self.conn is not None
        return self.call(what, self.conn.uid, *args)


class _Idler:
    """IDLE on an open, selected IMAP connection, read straight from its socket (``imaplib`` of Python 3.11 has no
    IDLE, and its buffered reader cannot wait with a timeout)."""

    def __init__(self, conn: imaplib.IMAP4, count: int) -> None:
        self.conn, self.count, self.buffer, self.tag = conn, count, b"", b""
        self.missed = False

    def _line(self, timeout: float) -> bytes | None:
        """One line of the server within ``timeout`` seconds (None: nothing yet); a closed connection raises."""
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buffer:
            sock = self.conn.sock
            pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
            left = deadline - time.monotonic()
            if not pending and (left <= 0 or not select.select([sock], [], [], left)[0]):
                return None
            try:
                chunk = sock.recv(65536)
            except (OSError, ssl.SSLError) as exc:
                raise ConnectorError(f"IMAP IDLE: connection dropped: {exc}") from exc
            if not chunk:
                raise ConnectorError("IMAP IDLE: the server closed the connection")
            self.buffer += chunk
            if len(self.buffer) > 1_000_000:
                raise ConnectorError("IMAP IDLE: the server sent a line over 1 MB")
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _expect(self, what: str, ok, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self._line(deadline - time.monotonic())
            if line is None:
                break
            if ok(line):
                return
            if line.startswith(self.tag + b" "):
                raise ConnectorError(f"IMAP {what} refused: {_text(line)}", permanent=True)
            if self._note(line):  # new mail announced while IDLE starts or ends: not lost
                self.missed = True
            if line.upper().startswith(b"* BYE"):
                raise ConnectorError(f"IMAP {what}: the server said goodbye: {_text(line)}")
        raise ConnectorError(f"IMAP {what}: no answer from the server")

    def _note(self, line: bytes) -> bool:
        """Take an untagged answer into account; True when it announces new mail."""
        m = _EXISTS_RE.match(line)
        if m:
            count, self.count = int(m.group(1)), max(self.count, int(m.group(1)))
            return count > 0
        return False

    def _send(self, data: bytes) -> None:
        try:
            self.conn.sock.sendall(data)
        except OSError as exc:
            raise ConnectorError(f"IMAP IDLE: connection dropped: {exc}") from exc

    def start(self) -> None:
        self.tag = self.conn._new_tag()
        self._send(self.tag + b" IDLE\r\n")
        self._expect("IDLE", lambda line: line.startswith(b"+"))

    def wait(self, timeout: float) -> bool:
        """True when the server pushed new mail within ``timeout`` seconds."""
        line = self._line(timeout)
        if line is None:
            return False
        if line.upper().startswith(b"* BYE"):
            raise ConnectorError(f"IMAP IDLE: the server said goodbye: {_text(line)}")
        return self._note(line)

    def done(self) -> None:
        self._send(b"DONE\r\n")
        self._expect("IDLE", lambda line: line.startswith(self.tag + b" OK"))


def _text(value: Any) -> str:
    if isinstance(value, Exception):
        value = value.args[0] if value.args else str(value)
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes)) if value else b""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return clean_text(value, 300)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch_parts(data: list[Any]) -> Iterator[tuple[bytes, bytes]]:
    """``(metadata, literal)`` pairs of a FETCH answer."""
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2:
            yield item[0], item[1]


@register
class EmailConnector(Connector):
    """A support mailbox: IMAP in (polled with a UID cursor), SMTP out (threaded replies)."""

    key = "email"
    label = "E-mail (IMAP/SMTP)"
    capabilities = frozenset({Capability.POLL, Capability.REPLY})
    poll_interval_s = 60
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "imap_host": ConfigField(str, True, "IMAP server host name."),
        "imap_port": ConfigField(int, False, "IMAP port (993 with ssl, 143 otherwise).", 993),
        "imap_security": ConfigField(str, False, "ssl, starttls or none (none: loopback hosts only).", "ssl"),
        "imap_username": ConfigField(str, False, "IMAP login (default: the account's address)."),
        "mailbox": ConfigField(str, False, "Folder to read.", "INBOX"),
        "smtp_host": ConfigField(str, False, "SMTP server (without it, the account cannot reply)."),
        "smtp_port": ConfigField(int, False, "SMTP port (587 with starttls, 465 with ssl).", 587),
        "smtp_security": ConfigField(str, False, "starttls, ssl or none (none: loopback hosts only).", "starttls"),
        "smtp_username": ConfigField(str, False, "SMTP login (default: the IMAP login)."),
        "from_name": ConfigField(str, False, "Display name of replies (e.g. 'Acme Support')."),
        "sent_folder": ConfigField(str, False, "IMAP folder receiving a copy of each reply (e.g. 'Sent')."),
        "batch_size": ConfigField(int, False, "Most messages fetched by one poll.", 100),
        "max_message_bytes": ConfigField(int, False, "Larger messages arrive as headers and a note.", 10_485_760),
        "backfill_days": ConfigField(int, False, "Days of existing mail read on the first poll (0: none).", 7),
        "timeout_s": ConfigField(float, False, "Network timeout, seconds.", 30.0),
        "poll_interval_s": ConfigField(int, False, "Seconds between polls (at least 15).", 60),
        "idle": ConfigField(bool, False, "Receive new mail at once through IMAP IDLE (dandelion stream).", True),
        "idle_renew_s": ConfigField(int, False, "Seconds before IDLE is renewed (at most 1740).", 1500),
    }

    # --- config ---------------------------------------------------------------------------------------------------
    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        errors: dict[str, str] = {}
        for side in ("imap", "smtp"):
            security = clean[f"{side}_security"]
            host = clean.get(f"{side}_host") or ""
            if security not in SECURITY:
                errors[f"{side}_security"] = f"must be one of {', '.join(SECURITY)}"
            elif security == "none" and host and not _is_loopback(host):
                errors[f"{side}_security"] = "plain connections are allowed to loopback hosts only"
            port = clean[f"{side}_port"]
            if not 0 < port < 65536:
                errors[f"{side}_port"] = "must be a TCP port"
        if not 1 <= clean["batch_size"] <= 1000:
            errors["batch_size"] = "must be between 1 and 1000"
        if clean["max_message_bytes"] < 1024:
            errors["max_message_bytes"] = "must be at least 1024"
        if not 0 <= clean["backfill_days"] <= 365:
            errors["backfill_days"] = "must be between 0 and 365"
        if clean["timeout_s"] <= 0:
            errors["timeout_s"] = "must be positive"
        if clean["poll_interval_s"] < MIN_POLL_INTERVAL_S:
            errors["poll_interval_s"] = f"must be at least {MIN_POLL_INTERVAL_S}"
        if not 1 <= clean["idle_renew_s"] <= IDLE_RENEW_MAX_S:
            errors["idle_renew_s"] = f"must be between 1 and {IDLE_RENEW_MAX_S}"
        if errors:
            raise ConfigError(errors)
        return clean

    def capabilities_for(self, config: Mapping[str, Any] | None = None) -> frozenset[str]:
        if config is not None and not config.get("smtp_host"):
            return self.capabilities - {Capability.REPLY}
        return self.capabilities

    # --- inbound --------------------------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        """Events of the messages received after ``since`` (one batch from the backfill window)."""
        events = self.poll_cursor(account, None).events
        return [e for e in events if since is None or e.created_at > since]

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        cursor = dict(cursor or {})
        now = utcnow()
        with _Imap(account, config) as imap:
            uidvalidity, uidnext, _count = imap.examine(config["mailbox"])
            if cursor.get("uidvalidity") != uidvalidity or not isinstance(cursor.get("last_uid"), int):
                uids = self._initial_uids(imap, config, uidnext, now)
                last_uid = (min(uids) - 1) if uids else max(uidnext - 1, 0)
            else:
                last_uid = cursor["last_uid"]
                found = imap.uid("SEARCH", "SEARCH", f"UID {last_uid + 1}:*")
                uids = sorted(int(u) for u in (found[0] or b"").split() if int(u) > last_uid)
            batch, more = uids[: config["batch_size"]], len(uids) > config["batch_size"]
            events, rejected = self._fetch(imap, account, config, batch, now)
        new_last = batch[-1] if batch else last_uid
        events.sort(key=lambda e: e.created_at)
        return PollResult(events=events, cursor={"uidvalidity": uidvalidity, "last_uid": new_last},
                          rejected=rejected, more=more)

    def _initial_uids(self, imap: _Imap, config: Mapping[str, Any], uidnext: int, now: dt.datetime) -> list[int]:
        days = config["backfill_days"]
        if days == 0:
            return []
        since = (now - dt.timedelta(days=days)).strftime("%d-%b-%Y")
        found = imap.uid("SEARCH", "SEARCH", "SINCE", since)
        return sorted(int(u) for u in (found[0] or b"").split())

    def _fetch(self, imap: _Imap, account: AccountRef, config: Mapping[str, Any], uids: list[int],
               now: dt.datetime) -> tuple[list[InboundEvent], list[RejectedItem]]:
        if not uids:
            return [], []
        limit = config["max_message_bytes"]
        sizes: dict[int, int] = {}
        for meta, _ in [(m, None) for m in imap.uid("FETCH", "FETCH", _uid_set(uids), "(RFC822.SIZE)")
                        if isinstance(m, bytes)]:
            uid_m, size_m = _UID_RE.search(meta), _SIZE_RE.search(meta)
            if uid_m and size_m:
                sizes[int(uid_m.group(1))] = int(size_m.group(1))
        small = [u for u in uids if sizes.get(u, 0) <= limit]
        large = [u for u in uids if sizes.get(u, 0) > limit]
        raws: dict[int, tuple[bytes, int | None]] = {}
        if small:
            for meta, literal in _fetch_parts(imap.uid("FETCH", "FETCH", _uid_set(small), "(UID BODY.PEEK[])")):
                uid_m = _UID_RE.search(meta)
                if uid_m:
                    raws[int(uid_m.group(1))] = (literal, None)
        if large:
            for meta, literal in _fetch_parts(
                imap.uid("FETCH", "FETCH", _uid_set(large), "(UID BODY.PEEK[HEADER])")
            ):
                uid_m = _UID_RE.search(meta)
                if uid_m:
                    uid = int(uid_m.group(1))
                    raws[uid] = (literal[:256 * 1024], sizes.get(uid))
        events: list[InboundEvent] = []
        rejected: list[RejectedItem] = []
        for uid in uids:
            if uid not in raws:
                rejected.append(RejectedItem(f"uid:{uid}", "the server returned no content for this message"))
                continue
            raw, truncated = raws[uid]
            try:
                events.append(parse_message(raw, account_address=account.external_id, now=now, uid=uid,
                                            truncated_size=truncated))
            except Exception as exc:  # noqa: BLE001 - one unreadable message never costs the others
                logger.warning("email: message uid %s of account %s rejected: %r", uid, account.id, exc)
                rejected.append(RejectedItem(f"uid:{uid}", f"{type(exc).__name__}: {clean_text(str(exc), 300)}",
                                             excerpt=clean_text(raw[:2000], 2000)))
        return events, rejected

    # --- push (IMAP IDLE) -----------------------------------------------------------------------------------------
    def stream_enabled(self, config: Mapping[str, Any] | None) -> bool:
        return bool((config or {}).get("idle", True))

    def stream(self, account: AccountRef, *, stop: threading.Event) -> Iterator[StreamBatch]:
        """IDLE on the mailbox until ``stop``: a ``StreamBatch(poll=True)`` per push of new mail (see the module)."""
        config = self.validate_config(account.config)
        with _Imap(account, config) as imap:
            assert imap.conn is not None
            caps = {c.upper() for c in (imap.conn.capabilities or ())}
            if "IDLE" not in caps:
                raise ConnectorError(f"the IMAP server {config['imap_host']} does not offer IDLE: set idle to false "
                                     "(the mailbox is polled)", permanent=True)
            _, _, count = imap.examine(config["mailbox"])
            yield StreamBatch(poll=True)  # catch up on what arrived before the connection
            idle = _Idler(imap.conn, count)
            while not stop.is_set():
                idle.start()  # new mail since the last command is announced as IDLE starts: ``missed``
                renew_at = time.monotonic() + config["idle_renew_s"]
                pushed, idle.missed = idle.missed, False
                while not stop.is_set() and time.monotonic() < renew_at and not pushed:
                    pushed = idle.wait(IDLE_TICK_S)
                    if not pushed:
                        yield StreamBatch()  # heartbeat
                idle.done()
                if pushed or idle.missed:
                    idle.missed = False
                    yield StreamBatch(poll=True)

    # --- outbound -------------------------------------------------------------------------------------------------
    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        config = self.validate_config(account.config)
        if not config.get("smtp_host"):
            raise ConnectorError("this mailbox has no smtp_host: it cannot send replies", permanent=True)
        original = self._original_headers(account, config, reply.in_reply_to) if reply.in_reply_to else {}
        to = original.get("reply_to") or original.get("from") or reply.recipient_external_id or ""
        to_address = email.utils.parseaddr(to)[1]
        if "@" not in to_address:
            raise ConnectorError(f"no address to answer: {to!r}", permanent=True)
        message = self.build_reply(account, config, reply, to_address, original)
        self._smtp_send(account, config, message, to_address)
        if config.get("sent_folder"):
            self._append_sent(account, config, message)
        return SentMessage(external_id=message["Message-ID"], sent_at=utcnow())

    def build_reply(self, account: AccountRef, config: Mapping[str, Any], reply: OutboundReply, to_address: str,
                    original: Mapping[str, Any]) -> EmailMessage:
        """The reply as an RFC 5322 message, with the threading headers of ``original``."""
        domain = account.external_id.rpartition("@")[2] or "dandelion.invalid"
        message = EmailMessage()
        message["From"] = email.utils.formataddr((config.get("from_name") or "", account.external_id))
        message["To"] = to_address
        subject = original.get("subject") or ""
        message["Subject"] = subject if re.match(r"(?i)^\s*re\s*:", subject) else f"Re: {subject}".strip()
        message["Date"] = email.utils.format_datetime(utcnow())
        if reply.idempotency_key:
            token = hashlib.sha256(f"{account.id}:{reply.idempotency_key}".encode()).hexdigest()[:24]
            message["Message-ID"] = f"<dandelion.{token}@{domain}>"
        else:
            message["Message-ID"] = email.utils.make_msgid(idstring="dandelion", domain=domain)
        if reply.in_reply_to:
            references = list(original.get("references") or [])
            if reply.in_reply_to not in references:
                references.append(reply.in_reply_to)
            message["In-Reply-To"] = reply.in_reply_to
            message["References"] = " ".join(references[-20:])
        message.set_content(reply.text)
        return message

    def _original_headers(self, account: AccountRef, config: Mapping[str, Any], message_id: str) -> dict[str, Any]:
        """Subject, sender and References of the message answered, found in the mailbox by its Message-ID."""
        if not message_ids(message_id):
            return {}
        with _Imap(account, config) as imap:
            imap.examine(config["mailbox"])
            found = imap.uid("SEARCH", "SEARCH", "HEADER", "Message-ID", _quote(message_id.strip("<>")))
            uids = (found[0] or b"").split()
            if not uids:
                return {}
            data = imap.uid("FETCH", "FETCH", uids[-1].decode(),
                            "(BODY.PEEK[HEADER.FIELDS (SUBJECT FROM REPLY-TO REFERENCES MESSAGE-ID)])")
        raw = next((lit for _, lit in _fetch_parts(data)), b"")
        headers = email.message_from_bytes(raw)
        from dandelion.connectors.email.parse import decode_words

        return {"subject": clean_text(decode_words(str(headers.get("Subject") or "")), 500).replace("\n", " "),
                "from": str(headers.get("From") or ""), "reply_to": str(headers.get("Reply-To") or ""),
                "references": message_ids(str(headers.get("References") or ""))}

    def _smtp(self, config: Mapping[str, Any]) -> smtplib.SMTP:
        host, port, timeout = config["smtp_host"], config["smtp_port"], config["timeout_s"]
        if config["smtp_security"] == "ssl":
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if config["smtp_security"] == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def _smtp_login(self, smtp: smtplib.SMTP, account: AccountRef, config: Mapping[str, Any]) -> None:
        password = account.credentials.get("smtp_password") or account.credentials.get("imap_password") or ""
        if password:
            smtp.login(config.get("smtp_username") or config.get("imap_username") or account.external_id, password)

    def _smtp_send(self, account: AccountRef, config: Mapping[str, Any], message: EmailMessage, to: str) -> None:
        try:
            with self._smtp(config) as smtp:
                self._smtp_login(smtp, account, config)
                smtp.send_message(message, from_addr=account.external_id, to_addrs=[to])
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectorError(f"SMTP login refused: {_text(exc.smtp_error)}", permanent=True) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise ConnectorError(f"SMTP refused the recipient {to}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise ConnectorError(f"SMTP answered {exc.smtp_code} {_text(exc.smtp_error)}",
                                 permanent=permanent) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectorError(f"SMTP server {config['smtp_host']} unreachable: {exc}") from exc

    def _append_sent(self, account: AccountRef, config: Mapping[str, Any], message: EmailMessage) -> None:
        try:
            with _Imap(account, config) as imap:
                assert imap.conn is not None
                imap.call("APPEND", imap.conn.append, _quote(config["sent_folder"]), r"(\Seen)",
                          imaplib.Time2Internaldate(time.time()), message.as_bytes())
        except ConnectorError as exc:  # the reply is sent: a missing copy is logged, never a failed reply
            logger.warning("email: reply sent but not copied to %s for account %s: %s",
                           config["sent_folder"], account.id, exc)

    # --- check ----------------------------------------------------------------------------------------------------
    def check(self, account: AccountRef) -> list[CheckResult]:
        try:
            config = self.validate_config(account.config)
        except ConfigError as exc:
            return [CheckResult("config", False, str(exc))]
        results = [CheckResult("config", True, "valid")]
        try:
            with _Imap(account, config) as imap:
                results.append(CheckResult("imap login", True, f"{config['imap_host']}:{config['imap_port']}"))
                uidvalidity, uidnext, count = imap.examine(config["mailbox"])
                results.append(CheckResult("mailbox", True, f"{config['mailbox']}: {count} messages, "
                                           f"UIDVALIDITY {uidvalidity}, next UID {uidnext}"))
                caps = sorted(c.decode() if isinstance(c, bytes) else str(c) for c in ((imap.conn.capabilities if imap.conn else None) or ()))
                results.append(CheckResult("imap capabilities", True, " ".join(caps)[:300]))
        except ConnectorError as exc:
            results.append(CheckResult("imap", False, f"{exc}{' (permanent)' if exc.permanent else ''}"))
        if not config.get("smtp_host"):
            results.append(CheckResult("smtp", False, "no smtp_host: replies are disabled"))
            return results
        try:
            with self._smtp(config) as smtp:
                self._smtp_login(smtp, account, config)
                smtp.noop()
            results.append(CheckResult("smtp login", True, f"{config['smtp_host']}:{config['smtp_port']} "
                                       "(nothing sent)"))
        except smtplib.SMTPAuthenticationError as exc:
            results.append(CheckResult("smtp login", False, f"refused: {_text(exc.smtp_error)}"))
        except (smtplib.SMTPException, OSError) as exc:
            results.append(CheckResult("smtp", False, f"unreachable: {exc}"))
        return results


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(u) for u in uids)
