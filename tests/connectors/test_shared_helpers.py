"""The connectors' shared helpers: token cache, write-back and refused refresh (``tokens``), pauses and header waits
(``ratelimits``), and the ``RejectedItem`` builders (``validation``)."""

from __future__ import annotations

import datetime as dt

import pytest

from dandelion.connectors import ratelimits, tokens, validation
from dandelion.connectors.base import AccountRef, InboundAuthor, InboundEvent
from dandelion.connectors.errors import ConnectorError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_pause_book_keeps_the_longest_pause_and_raises_a_transient_error_while_paused():
    clock = Clock()
    book = ratelimits.PauseBook(clock)
    book.check(("a", "me"), "X's rate limit")  # not paused: nothing raised
    book.pause_for(("a", "me"), 300, "429")
    book.pause_until(("a", "me"), clock.now + 10)  # shorter: ignored
    with pytest.raises(ConnectorError) as caught:
        book.check(("a", "me"), "X's rate limit")
    assert not caught.value.permanent and caught.value.retry_after == 300
    assert str(caught.value).startswith("X's rate limit: paused 300 s more")
    assert book.wait(("a", "other")) == 0
    clock.now += 301
    book.check(("a", "me"), "X's rate limit")


def test_header_wait_reads_the_first_number_and_bounds_it():
    assert ratelimits.header_wait({"retry-after": "12"}, "retry-after", default=60) == 12
    assert ratelimits.header_wait({"retry-after": "soon", "x-ratelimit-reset": "0.2"}, "retry-after",
                                  "x-ratelimit-reset", default=60) == 1.0
    assert ratelimits.header_wait({"retry-after": "999999999"}, "retry-after", default=60, cap=3600) == 3600
    assert ratelimits.header_wait(None, "retry-after", default=60) == 60


def test_rejected_item_is_cleaned_and_bounded():
    item = validation.rejected_item("x" * 500, ValueError("id\ud800"), {"text": "a" * 5000}, as_json=True)
    assert len(item.ref) == validation.MAX_REJECT_REF_CHARS and item.ref.endswith("…")
    assert item.error == "id?" and len(item.excerpt) == 1000 and item.excerpt.startswith('{"text": "aaa')
    named = validation.rejected_item("entry 3", ValueError("bad\x00date"), "raw text", name_type=True)
    assert (named.error, named.excerpt) == ("ValueError: baddate", "raw text")
    assert validation.rejected_item("page 1", "a page without items").excerpt == ""


def test_partition_rejecting_sets_the_bad_events_aside_with_their_field():
    now = dt.datetime.now(dt.UTC)
    author = InboundAuthor(external_id="u1")
    good = InboundEvent(external_id="1", kind="comment", text="hello", created_at=now, author=author)
    bad = InboundEvent(external_id="2", kind="comment", text="x" * 100_000, created_at=now, author=author)
    events, rejected = validation.partition_rejecting([good, bad], refs=["c1", "c2"], prefix="poll")
    assert events == [good]
    [item] = rejected
    assert item.ref == "c2" and "poll[1].text" in item.error and len(item.excerpt) == 500
    _events, default_refs = validation.partition_rejecting([bad])
    assert default_refs[0].ref == "item 0"


def test_token_cache_is_invalidated_by_new_stored_credentials():
    cache: tokens.TokenCache[str] = tokens.TokenCache()
    stored = {"access_token": "a", "refresh_token": "r"}
    key = tokens.fingerprint(stored, "access_token", "refresh_token")
    cache.put(7, key, "refreshed")
    assert cache.get(7, key) == "refreshed"
    reconnected = tokens.fingerprint({**stored, "refresh_token": "r2"}, "access_token", "refresh_token")
    assert cache.get(7, reconnected) is None
    cache.forget()
    assert cache.get(7, key) is None


class RecordingStore:
    def __init__(self, *, newer: bool = False, fail: bool = False) -> None:
        self.saved: list[tokens.RefreshedCredentials] = []
        self.revocations: list[tuple[str, int]] = []
        self.newer, self.fail = newer, fail

    def save(self, refreshed: tokens.RefreshedCredentials) -> bool:
        if self.fail:
            raise RuntimeError("database down")
        self.saved.append(refreshed)
        return not self.newer

    def revoked(self, error: str, *, based_on: int) -> bool:
        self.revocations.append((error, based_on))
        return not self.newer


def ref(store=None) -> AccountRef:
    return AccountRef(id=3, network="x", external_id="1", handle="h", credentials_version=4, token_store=store)


def test_write_back_hands_the_tokens_and_their_version_to_the_store():
    store = RecordingStore()
    expiry = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert tokens.write_back(ref(store), {"access_token": "new"}, expires_at=expiry)
    [saved] = store.saved
    assert (dict(saved.values), saved.expires_at, saved.based_on) == ({"access_token": "new"}, expiry, 4)
    assert "new" not in repr(saved) and "token_store" not in repr(ref(store))
    assert not tokens.write_back(ref(None), {"access_token": "new"})
    assert not tokens.write_back(ref(RecordingStore(fail=True)), {"access_token": "new"})  # logged, not raised


def test_refused_refresh_is_permanent_unless_a_newer_token_is_stored():
    store = RecordingStore()
    error = tokens.refresh_refused(ref(store), "X refused to refresh the token")
    assert error.permanent and store.revocations == [("X refused to refresh the token", 4)]
    newer = tokens.refresh_refused(ref(RecordingStore(newer=True)), "X refused to refresh the token")
    assert not newer.permanent and newer.retry_after == tokens.NEWER_TOKEN_RETRY_S
    assert tokens.refresh_refused(ref(None), "refused").permanent


def test_parse_expiry_and_expires_in():
    assert tokens.parse_expiry("2030-01-01T00:00:00") == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert tokens.parse_expiry("2030-01-01T02:00:00+02:00") == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert tokens.parse_expiry("never") is None and tokens.parse_expiry(None) is None
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert tokens.expires_in("7200", now=now) == now + dt.timedelta(hours=2)
    assert tokens.expires_in(None) is None
