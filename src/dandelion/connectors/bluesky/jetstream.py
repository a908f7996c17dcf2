"""Bluesky's Jetstream (the firehose as JSON over a WebSocket) for the ``bluesky`` connector's ``stream_search``.

A Jetstream instance (``wss://jetstream2.us-east.bsky.network/subscribe`` by default; the account's
``jetstream_url`` names another, e.g. a self-hosted one) is asked for ``wantedCollections=app.bsky.feed.post`` and
sends one JSON message per repository event (docs: github.com/bluesky-social/jetstream)::

    {"did": "did:plc:…", "time_us": 1725911162329308, "kind": "commit",
     "commit": {"rev": "…", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3l3q…",
                "record": {"$type": "app.bsky.feed.post", "text": "…", "createdAt": "…", "langs": ["fr"]},
                "cid": "bafy…"}}

Jetstream has no server-side text filter: every new post of the network arrives, and :func:`matches` keeps those
containing one of the listening query's search terms (a word or phrase as a whole word, case-insensitive; ``#tag``
as a hashtag facet or in the text; ``@handle`` in the text); the listening pipeline then matches the full query.
Other kinds (``identity``, ``account``), updates and deletions are skipped. A message that is not JSON, too big, or
a post create without a DID, rkey or text is rejected alone. ``time_us`` of the last message is kept per account in
this process and sent back as ``cursor`` on reconnection (minus a few seconds: Jetstream replays from there, the
listening dedup drops what was already stored).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from dandelion.connectors.base import InboundAuthor, InboundEvent, RejectedItem, StreamBatch, utcnow
from dandelion.connectors.errors import ConnectorError, PayloadError
from dandelion.connectors.tolerant import bounded_id, clamp_date, clean_text, parse_time
from dandelion.connectors.validation import load_json, partition_events

DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POST = "app.bsky.feed.post"
#: The largest message read (a post is a few KB).
MAX_MESSAGE_BYTES = 1_000_000
TICK_S = 1.0
#: Replay this much before the last message seen when reconnecting.
REPLAY_US = 5_000_000
_RKEY = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")

_cursors: dict[int, int] = {}
_lock = threading.Lock()


def remember(account_id: int, time_us: int) -> None:
    with _lock:
        _cursors[account_id] = max(time_us, _cursors.get(account_id, 0))


def resume_from(account_id: int) -> int | None:
    with _lock:
        last = _cursors.get(account_id)
    return max(last - REPLAY_US, 0) if last else None


def forget(account_id: int | None = None) -> None:
    with _lock:
        if account_id is None:
            _cursors.clear()
        else:
            _cursors.pop(account_id, None)


def subscribe_url(base: str, cursor: int | None) -> str:
    params: list[tuple[str, str]] = [("wantedCollections", POST)]
    if cursor is not None:
        params.append(("cursor", str(cursor)))
    return f"{base}{'&' if urlsplit(base).query else '?'}{urlencode(params)}"


def messages(url: str, *, stop: threading.Event, timeout: float) -> Iterator[str | bytes | None]:
    """The messages of a Jetstream connection; None about every second when nothing came; until ``stop``."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
    from websockets.sync.client import connect

    try:
        ws = connect(url, open_timeout=timeout, close_timeout=2, max_size=4 * MAX_MESSAGE_BYTES, compression=None,
                     proxy=None, user_agent_header="Dandelion (Jetstream)")
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise ConnectorError(f"Jetstream refused the connection (HTTP {status})",
                             permanent=400 <= status < 500 and status != 429) from exc
    except InvalidURI as exc:
        raise ConnectorError(f"the Jetstream URL is not a WebSocket URL: {exc}", permanent=True) from exc
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise ConnectorError(f"cannot reach Jetstream ({clean_text(str(exc), 200)})") from exc
    with ws:
        while not stop.is_set():
            try:
                yield ws.recv(timeout=TICK_S)
            except TimeoutError:
                yield None
            except ConnectionClosed as exc:
                raise ConnectorError(f"the Jetstream connection closed ({clean_text(str(exc), 200)})") from exc


def _word_pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)


def compile_terms(terms: Sequence[str]) -> list[tuple[str, Any]]:
    """Each search term as ``("tag", name)`` or ``("text", pattern)``."""
    out: list[tuple[str, Any]] = []
    for term in terms:
        term = term.strip()
        if len(term) >= 2 and term.startswith('"') and term.endswith('"'):
            term = term[1:-1]
        if not term:
            continue
        if term.startswith("#") and len(term) > 1:
            out.append(("tag", term[1:].lower()))
        out.append(("text", _word_pattern(term)))
    return out


def matches(record: Mapping[str, Any], compiled: Sequence[tuple[str, Any]]) -> bool:
    text = record.get("text") if isinstance(record.get("text"), str) else ""
    tags: set[str] = set()
    for facet in record.get("facets") or []:
        for feature in (facet.get("features") or []) if isinstance(facet, Mapping) else []:
            if isinstance(feature, Mapping) and isinstance(feature.get("tag"), str):
                tags.add(feature["tag"].lower())
    return any((kind == "tag" and value in tags) or (kind == "text" and value.search(text))
               for kind, value in compiled)


def event_from_commit(data: Mapping[str, Any], *, own_did: str, now: dt.datetime,
                      alt_lines=None) -> InboundEvent:
    """A Jetstream post create as an ``InboundEvent`` (``ValueError`` when it is not a readable one)."""
    did, commit = data.get("did"), data.get("commit")
    if not isinstance(did, str) or not did.startswith("did:") or len(did) > 200:
        raise ValueError("the message has no author DID")
    if not isinstance(commit, Mapping):
        raise ValueError("the commit is not an object")  # noqa: TRY004
    rkey, record = commit.get("rkey"), commit.get("record")
    if not isinstance(rkey, str) or not _RKEY.match(rkey):
        raise ValueError("the commit has no valid rkey")
    if not isinstance(record, Mapping) or not isinstance(record.get("text"), str):
        raise ValueError("the post record has no text")  # noqa: TRY004
    uri = f"at://{did}/{POST}/{rkey}"
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, Mapping) else None
    uri_of_parent = parent.get("uri") if isinstance(parent, Mapping) else None
    parent_uri = uri_of_parent if isinstance(uri_of_parent, str) and uri_of_parent.startswith("at://") else None
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    language = langs[0][:2].lower() if langs and isinstance(langs[0], str) and re.match(r"^[a-zA-Z]{2}", langs[0]) \
        else None
    text = record["text"] + (alt_lines(record) if alt_lines else "")
    return InboundEvent(
        external_id=bounded_id(uri), kind="reply" if parent_uri else "mention", text=clean_text(text, 3000),
        created_at=clamp_date(parse_time(record.get("createdAt")), now=now),
        author=InboundAuthor(external_id=did, language=language),
        in_reply_to=bounded_id(parent_uri) if parent_uri else None, from_account=did == own_did,
        raw={"uri": uri, "cid": commit.get("cid"), "time_us": data.get("time_us"), "source": "jetstream"},
    )


def batch_of(message: str | bytes, *, compiled, own_did: str, account_id: int, alt_lines=None) -> StreamBatch:
    """One Jetstream message as a batch: the matching post, nothing (other events, posts not matching), or its
    rejection; never an exception."""
    raw = message.encode("utf-8", errors="replace") if isinstance(message, str) else message
    if len(raw) > MAX_MESSAGE_BYTES:
        return StreamBatch(rejected=[RejectedItem("jetstream", f"a message over {MAX_MESSAGE_BYTES} bytes")])
    try:
        data = load_json(raw)
    except PayloadError as exc:
        return StreamBatch(rejected=[RejectedItem("jetstream", f"unreadable JSON: {exc}",
                                                  excerpt=clean_text(raw[:2000].decode("utf-8", "replace"), 2000))])
    if not isinstance(data, Mapping):
        return StreamBatch(rejected=[RejectedItem("jetstream", "a message that is not an object")])
    time_us = data.get("time_us")
    if isinstance(time_us, int) and not isinstance(time_us, bool) and 0 < time_us < 2**62:
        remember(account_id, time_us)
    commit = data.get("commit")
    if data.get("kind") != "commit" or not isinstance(commit, Mapping) or commit.get("operation") != "create" \
            or commit.get("collection") != POST:
        return StreamBatch()  # identity, account, updates, deletions, other collections: not listening items
    record = commit.get("record")
    if isinstance(record, Mapping) and isinstance(record.get("text"), str) and not matches(record, compiled):
        return StreamBatch()  # a readable post without the terms (an unreadable one is rejected below)
    ref = clean_text(f"jetstream {data.get('did')}/{commit.get('rkey')}", 200)
    try:
        event = event_from_commit(data, own_did=own_did, now=utcnow(), alt_lines=alt_lines)
    except (ValueError, TypeError) as exc:
        return StreamBatch(rejected=[RejectedItem(ref, str(exc), excerpt=clean_text(json.dumps(data)[:2000], 2000))])
    good, bad = partition_events([event], prefix="jetstream")
    return StreamBatch(events=good, rejected=[RejectedItem(ref, str(error)) for _i, error in bad])
