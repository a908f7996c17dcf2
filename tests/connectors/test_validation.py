"""The shared validator of untrusted inbound data (connectors/validation.py), and the generic webhook on it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dandelion.connectors import validation
from dandelion.connectors.base import InboundAuthor, InboundEvent
from dandelion.connectors.errors import PayloadError
from dandelion.connectors.generic.webhook import MAX_BODY_BYTES, parse_payload


def event(**overrides):
    base = {"id": "c-1", "kind": "comment", "text": "Bonjour", "created_at": "2025-03-01T10:15:00+01:00",
            "author": {"id": "u-1", "name": "Camille", "handle": "@camille", "followers": 12}}
    return base | overrides


def batch(bad: dict, at: int = 3, n: int = 5) -> bytes:
    """A batch of ``n`` good events with ``bad``'s fields at index ``at``, encoded as a sender would."""
    events = [event(id=f"c-{i}") for i in range(n)]
    events[at] = event(**({"id": f"c-{at}"} | bad))
    return json.dumps({"events": events}).encode()


def error_of(body: bytes) -> PayloadError:
    with pytest.raises(PayloadError) as info:
        parse_payload(body)
    assert info.value.http_status == 400
    return info.value


# --- what the issue reported ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "path", "message"),
    [
        ({"text": "a \ud800 b"}, "events[3].text", "lone surrogate \\ud800 at character 3"),
        ({"text": "a \udfff"}, "events[3].text", "lone surrogate"),
        ({"text": "nul\x00byte"}, "events[3].text", "NUL"),
        ({"author": {"id": "u", "name": "x\ud800"}}, "events[3].author.name", "lone surrogate"),
        ({"author": {"id": "u\x00"}}, "events[3].author.id", "NUL"),
        ({"in_reply_to": "p\udc00"}, "events[3].in_reply_to", "lone surrogate"),
        ({"created_at": "0001-01-01T00:00:00Z"}, "events[3].created_at", "between 1970 and 2100"),
        ({"created_at": "0001-01-01T00:30:00+01:00"}, "events[3].created_at", "between 1970 and 2100"),
        ({"created_at": "9999-12-31T23:59:59-05:00"}, "events[3].created_at", "between 1970 and 2100"),
        ({"created_at": "1969-12-31T23:59:59Z"}, "events[3].created_at", "between 1970 and 2100"),
        ({"created_at": "2101-01-01T00:00:00Z"}, "events[3].created_at", "between 1970 and 2100"),
        ({"author": {"id": "u", "followers": 10**30}}, "events[3].author.followers", "signed 64 bits"),
        ({"author": {"id": "u", "followers": 2**31}}, "events[3].author.followers", "at most 2,147,483,647"),
        ({"author": {"id": "u", "followers": 1.5}}, "events[3].author.followers", "non-negative integer"),
        ({"id": 2**63}, "events[3].id", "signed 64 bits"),
        ({"id": "x" * 151}, "events[3].id", "at most 150 characters"),
        ({"author": {"id": "u", "handle": "h" * 151}}, "events[3].author.handle", "at most 150 characters"),
        ({"author": {"id": "u", "name": "n" * 201}}, "events[3].author.name", "at most 200 characters"),
        ({"kind": ["comment"]}, "events[3].kind", "must be one of"),  # unhashable: was a TypeError, a 500
        ({"kind": {"a": 1}}, "events[3].kind", "must be one of"),
        ({"text": ["a"]}, "events[3].text", "must be a string"),
        ({"author": []}, "events[3].author", "must be an object"),
        ({"from_account": 1}, "events[3].from_account", "true or false"),
        ({"created_at": ["2025"]}, "events[3].created_at", "ISO 8601 string"),
        ({"created_at": "2025-03-01T10:15:00" + " " * 80}, "events[3].created_at", "ISO 8601"),
        ({"author": {"id": "u", "language": "a-" + "b" * 40}}, "events[3].author.language", "language code"),
        ({"extra": {"deep": ["ok", "bad\ud800"]}}, "events[3].extra.deep[1]", "lone surrogate"),
        ({"extra": {"n": 10**19}}, "events[3].extra.n", "signed 64 bits"),
    ],
)
def test_what_the_worker_could_not_store_is_refused_naming_the_field(bad, path, message):
    error = error_of(batch(bad))
    assert error.path == path
    assert message in error.message
    assert str(error).startswith(f"{path}: ")


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_deep_nesting_is_a_clean_error_never_a_recursion_error(depth):
    for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth, b"[" * depth):
        if len(body) <= MAX_BODY_BYTES:
            error = error_of(body)
        else:  # over the webhook's size limit (a 413 there): the JSON loader on its own
            with pytest.raises(PayloadError) as info:
                validation.load_json(body)
            error = info.value
        assert error.path == "body" and "nested deeper than 32 levels" in error.message


def test_nesting_within_the_bound_is_accepted_and_brackets_in_strings_do_not_count():
    deep = {"events": [event(extra=json.loads("[" * 28 + "]" * 28), text="[[[[{{{{" * 100 + '\\"[')]}
    [parsed] = parse_payload(json.dumps(deep).encode())
    assert parsed.text.startswith("[[[[{{{{")


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999", b"9" * 5000])
def test_numbers_no_column_stores_are_refused_with_their_path(literal):
    body = b'{"id": "c", "kind": "comment", "text": "t", "created_at": "2025-01-01", "author": {"id": "u"}, ' \
           b'"extra": [1, ' + literal + b"]}"
    error = error_of(body)
    assert error.path == "extra[1]"
    assert ("signed 64 bits" if literal.isdigit() else "number out of range") in error.message


def test_a_key_with_a_lone_surrogate_is_refused():
    error = error_of(json.dumps(event(extra={"k\ud800": 1})).encode())
    assert error.path == "extra" and "lone surrogate" in error.message


@pytest.mark.parametrize("body", [b"\xed\xa0\x80", b'{"text": "\xff"}', b"\x00", b"[1, 2"])
def test_bytes_that_are_not_utf8_json_are_refused(body):
    assert error_of(body).path == "body"


def test_edges_that_are_accepted():
    [e] = parse_payload(json.dumps(event(
        id=2**63 - 1, text="😀 é \u200b \ufeff \U0010ffff\t\n", created_at="1970-01-01T01:00:00+01:00",
        author={"id": -(2**63), "followers": 2**31 - 1, "name": "n" * 200, "handle": "h" * 150},
        in_reply_to="x" * 150)).encode())
    assert e.external_id == str(2**63 - 1) and e.author.external_id == str(-(2**63))
    assert e.created_at == dt.datetime(1970, 1, 1, tzinfo=dt.UTC) and e.author.followers == 2**31 - 1
    [late] = parse_payload(json.dumps(event(created_at="2100-12-31T23:59:59Z")).encode())
    assert late.created_at.year == 2100
    # an escaped surrogate pair is one valid character
    [pair] = parse_payload(b'{"id": "c", "kind": "dm", "text": "\\ud83d\\ude00", "created_at": "2025-01-01", '
                           b'"author": {"id": "u"}}')
    assert pair.text == "😀"


# --- the DTO gate every connector uses ------------------------------------------------------------------------------


def dto(text="Bonjour", *, created_at=None, followers=None, external_id="e-1", author_id="u-1", **kw):
    return InboundEvent(external_id=external_id, kind="comment", text=text,
                        created_at=created_at or dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                        author=InboundAuthor(external_id=author_id, followers=followers, **kw))


def test_validate_event_normalises_a_good_event():
    paris = dt.timezone(dt.timedelta(hours=1))
    clean = validation.validate_event(dto(created_at=dt.datetime(2025, 1, 1, 1, tzinfo=paris), language="PT-br",
                                          country="sn", external_id=" e-1 "))
    assert clean.created_at == dt.datetime(2025, 1, 1, tzinfo=dt.UTC) and clean.created_at.tzinfo is dt.UTC
    assert (clean.author.language, clean.author.country, clean.external_id) == ("pt-br", "SN", "e-1")


@pytest.mark.parametrize(
    ("event_kwargs", "path"),
    [
        ({"text": "\ud800"}, "events[1].text"),
        ({"text": "a\x00"}, "events[1].text"),
        ({"text": "   "}, "events[1].text"),
        ({"text": None}, "events[1].text"),
        ({"followers": 10**30}, "events[1].author.followers"),
        ({"followers": -1}, "events[1].author.followers"),
        ({"created_at": dt.datetime(1, 1, 1, tzinfo=dt.UTC)}, "events[1].created_at"),
        ({"created_at": dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5)))},
         "events[1].created_at"),
        ({"external_id": "x" * 151}, "events[1].id"),
        ({"author_id": ""}, "events[1].author.id"),
        ({"name": "n\ud800"}, "events[1].author.name"),
        ({"language": "not a language"}, "events[1].author.language"),
    ],
)
def test_validate_events_names_the_bad_field_of_a_dto(event_kwargs, path):
    with pytest.raises(PayloadError) as info:
        validation.validate_events([dto(), dto(**event_kwargs)])
    assert info.value.path == path


def test_partition_events_sets_aside_only_the_bad_ones():
    good, bad = validation.partition_events([dto(external_id="a"), dto("\ud800", external_id="b"),
                                             dto(external_id="c", followers=2**40)])
    assert [e.external_id for e in good] == ["a"]
    assert [(i, e.path) for i, e in bad] == [(1, "events[1].text"), (2, "events[2].author.followers")]


def test_the_fake_connectors_poll_goes_through_the_gate():
    from dandelion.connectors import fake
    from dandelion.connectors.base import AccountRef

    fake.reset()
    fake.FakeConnector.queue_inbound(7, [dto(external_id="ok"), dto("\ud800", external_id="bad")])
    with pytest.raises(PayloadError) as info:
        fake.FakeConnector().poll(AccountRef(id=7, network="facebook", external_id="x", handle="@x"), None)
    assert info.value.path == "events[1].text"
    fake.reset()


def test_replay_records_the_inbox_could_not_store_are_skipped(caplog):
    from dandelion.connectors.replay.records import with_delays

    records = list(with_delays([(dto(external_id="a"), "@x"), (dto("\ud800", external_id="b"), "@x"),
                                (dto(external_id="c", followers=2**40), None), (dto(external_id="d"), None)]))
    assert [r.event.external_id for r in records] == ["a", "d"]
    assert "record 1 (b) skipped: text: must be valid Unicode" in caplog.text


def test_clean_string_error():
    assert validation.clean_string_error("ascii only") is None
    assert validation.clean_string_error("été 😀") is None
    assert "NUL" in validation.clean_string_error("a\x00")
    assert "\\udc80" in validation.clean_string_error("a\udc80")


def test_a_clean_event_is_returned_as_is_and_the_fast_path_agrees_with_the_full_checks():
    clean = validation.validate_event(dto(language="fr", country="SN", followers=3))
    assert validation.validate_event(clean) is clean
    with pytest.raises(PayloadError) as info:
        validation.validate_event({"id": "x"}, "events[0]")
    assert info.value.path == "events[0]"
    # each way of being unclean takes the full path, which normalises or refuses
    paris = dt.timezone(dt.timedelta(hours=1))
    assert validation.validate_event(dto(created_at=dt.datetime(2025, 1, 1, 1, tzinfo=paris))).created_at == \
        dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert validation.validate_event(dto(language="FR", country="sn")).author.language == "fr"
    assert validation.validate_event(dto(external_id=" padded ")).external_id == "padded"


_nasty_str = st.one_of(st.text(max_size=12), st.sampled_from(["", " x ", "\ud800", "a\x00", "x" * 151, "FR", "fr",
                                                              "Fr", "pt-BR", "pt-br", "es-419", "sn"]))


@settings(max_examples=400, derandomize=True, database=None)
@given(ext=_nasty_str, text=_nasty_str, author_id=_nasty_str, name=_nasty_str, handle=_nasty_str,
       language=st.one_of(st.none(), _nasty_str), country=st.one_of(st.none(), _nasty_str),
       followers=st.one_of(st.none(), st.sampled_from([-1, 0, 5, 2**31 - 1, 2**31, 10**30])),
       in_reply_to=st.one_of(st.none(), _nasty_str),
       created_at=st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-3))])))
def test_the_fast_path_never_accepts_what_the_full_checks_change_or_refuse(ext, text, author_id, name, handle,
                                                                           language, country, followers,
                                                                           in_reply_to, created_at):
    try:
        event = InboundEvent(external_id=ext or "e", kind="dm", text=text, created_at=created_at,
                             author=InboundAuthor(external_id=author_id, name=name, handle=handle,
                                                  followers=followers, language=language, country=country),
                             in_reply_to=in_reply_to)
    except ValueError:
        return
    if not validation._already_clean(event):
        return
    # what the fast path lets through, the full checks (run by hand here) accept unchanged
    a = event.author
    assert validation.check_identifier(event.external_id, "id", required=True) == event.external_id
    assert validation.check_text(event.text, "text", max_chars=validation.MAX_TEXT_CHARS, required=True) == event.text
    assert validation.check_datetime(event.created_at, "created_at") == event.created_at
    assert validation.check_identifier(event.in_reply_to, "in_reply_to", required=False) == event.in_reply_to
    assert validation.check_identifier(a.external_id, "author.id", required=True) == a.external_id
    assert validation.check_text(a.name, "n", max_chars=validation.MAX_NAME_CHARS) == a.name
    assert validation.check_text(a.handle, "h", max_chars=validation.MAX_HANDLE_CHARS) == a.handle
    assert validation.check_count(a.followers, "f") == a.followers
    assert validation.check_language(a.language, "l") == a.language
    assert validation.check_country(a.country, "c") == a.country


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


_tricky = st.text(alphabet='[]{}"\\ab\u00e9', max_size=8)


@settings(max_examples=300, derandomize=True, database=None)
@given(doc=st.recursive(st.one_of(_tricky, st.integers(), st.none()),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_tricky, inner, max_size=3),
                        max_leaves=40),
       ascii_only=st.booleans())
def test_the_depth_scan_is_exact_whatever_brackets_quotes_and_backslashes_the_strings_hold(doc, ascii_only):
    body = json.dumps(doc, ensure_ascii=ascii_only).encode()
    depth = _depth(doc)
    validation.check_depth(body, depth)  # exactly deep enough: accepted
    if depth:
        with pytest.raises(PayloadError):
            validation.check_depth(body, depth - 1)
