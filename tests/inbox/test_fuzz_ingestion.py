"""Fuzzing the inbound path: thousands of correctly signed bodies through the real webhook endpoint, then the real
worker (with the real analyzer when it is installed, whose hashing crashed on a lone surrogate).

The bodies follow the generic webhook schema, with any field replaced now and then by a nasty value (lone surrogates,
NUL, huge integers, dates of year 1 or 9999, wrong types, over-long strings, unicode edge cases), wrapped in
nasty encodings (raw UTF-8 with surrogates, deep nesting, oversized bodies). Whatever comes in:

* the endpoint never answers 5xx: 202, or 400 naming the field, or 413;
* the worker never dies, and every event of every 202 is stored (or its delivery failed, visibly, with an error).

Derandomized and bounded, so it is the same run every time and stays well under a minute.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dandelion.connectors.generic import MAX_BODY_BYTES
from dandelion.inbox.choices import DeliveryState
from dandelion.inbox.jobs import process_pending_deliveries
from dandelion.inbox.models import InboundDelivery, Message

pytestmark = pytest.mark.django_db

EXAMPLES = 2000

# --- values -----------------------------------------------------------------------------------------------------------

NASTY_STRINGS = [
    "\ud800", "a\udfff b", "\udc00\ud800", "\x00", "nul\x00byte", "", " ", "\t\n\r", "\ufeff", "\u202e\u202d",
    "\u0301", "İı", "ß" * 3, "😀", "\U0010ffff", "\ufffe\uffff", "\u2028\u2029", "a" * 151, "b" * 201,
    "c" * 10_000, "d" * 10_001, "é" * 10_001, "null", "true", "[]", "{}", "\\ud800", '"', "\\",
    "<script>alert(1)</script>", "' OR 1=1 --", "%s%s%n", "${jndi:ldap://x}", "1e309", "NaN",
]
NASTY_INTS = [0, -1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**30, -(10**30),
              10**400]
NASTY_DATES = [
    "0001-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59",
    "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2100-12-31T23:59:59Z", "2101-01-01T00:00:00Z",
    "2025-02-30T00:00:00", "2025-13-01", "yesterday", "", "2025-03-01T10:15:00+25:00", "2025-03-01T10:15:00\x00",
    "2025-03-01T10:15:00\ud800", "20250301T101500Z", "2025-03-01",
]

leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                 st.text(max_size=12), st.sampled_from(NASTY_STRINGS), st.sampled_from(NASTY_INTS))
any_json = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=10)

# any code point, surrogates included (hypothesis leaves out category Cs unless asked)
wild_text = st.text(alphabet=st.characters(codec=None, categories=None, exclude_categories=()), max_size=30)
good_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=80) \
    .filter(str.strip)
good_id = st.one_of(st.text(alphabet="abcdefghijk0123456789-_:.", min_size=1, max_size=24),
                    st.integers(min_value=0, max_value=2**53))
good_date = st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 12, 30),
                         timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=14)),
                                                    dt.timezone(dt.timedelta(hours=-12, minutes=-30))]))


def nasty(good):
    """Mostly a good value, sometimes a nasty one, sometimes any JSON at all (a wrong type)."""
    return st.one_of(good, good, good, st.sampled_from(NASTY_STRINGS), st.sampled_from(NASTY_INTS), wild_text,
                     any_json)


clean_author = st.fixed_dictionaries(
    {"id": good_id},
    optional={"name": st.text(max_size=40).filter(lambda s: "\x00" not in s), "handle": st.from_regex(r"@\w{1,20}",
                                                                                                       fullmatch=True),
              "followers": st.integers(min_value=0, max_value=2**31 - 1), "language": st.sampled_from(
                  ["fr", "en", "pt-BR", "es-419", "zh-Hant-TW", "am"]), "country": st.sampled_from(["FR", "sn"])})
clean_event = st.fixed_dictionaries(
    {"id": good_id, "kind": st.sampled_from(["comment", "mention", "dm", "reply"]), "text": good_text,
     "created_at": good_date.map(dt.datetime.isoformat), "author": clean_author},
    optional={"in_reply_to": st.one_of(st.none(), good_id), "from_account": st.just(False),
              "extra": any_json.filter(lambda v: not isinstance(v, str))})
nasty_author = st.one_of(clean_author, any_json, st.fixed_dictionaries(
    {"id": nasty(good_id)}, optional={"name": nasty(st.text(max_size=20)), "handle": nasty(st.just("@x")),
                                      "followers": nasty(st.integers(min_value=0, max_value=10**6)),
                                      "language": nasty(st.just("fr")), "country": nasty(st.just("SN"))}))
nasty_event = st.fixed_dictionaries(
    {"id": nasty(good_id), "kind": nasty(st.sampled_from(["comment", "dm"])), "text": nasty(good_text),
     "created_at": st.one_of(good_date.map(dt.datetime.isoformat), st.sampled_from(NASTY_DATES),
                             st.datetimes().map(dt.datetime.isoformat), any_json),
     "author": nasty_author},
    optional={"in_reply_to": nasty(good_id), "from_account": st.one_of(st.just(False), any_json),
              "extra": any_json})
events = st.one_of(clean_event, nasty_event)
document = st.one_of(events, st.fixed_dictionaries({"events": st.lists(events, min_size=1, max_size=4)}),
                     st.fixed_dictionaries({"events": st.one_of(st.just([]), any_json)}), any_json)


def deep(n: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    return open_ * n + close * n


RAW_BODIES = [
    deep(100_000), b"[" * 100_000, deep(33), deep(32), deep(20_000, b'{"a":', b"}").replace(b"{}", b"1"),
    b'{"events": [' + b"[" * 5000 + b"]}", b"", b"null", b"NaN", b"[1e999]", b"9" * 5000, b"\xff\xfe\x00",
    b"\xed\xa0\x80", b'{"id": "\xed\xa0\x80"}', b'"\\ud800"', b"{" * 10, b" " * 1000,
    b'{"events": [' + b",".join([b'{"id": "x"}'] * 101) + b"]}",
    json.dumps({"events": [{"id": f"big-{i}", "kind": "comment", "text": "x" * 10_000, "created_at": "2025-01-01",
                            "author": {"id": "u"}} for i in range(30)]}).encode(),  # over 256 KiB: 413
]


@st.composite
def bodies(draw) -> bytes:
    how = draw(st.sampled_from(["ascii", "ascii", "ascii", "utf8", "raw"]))
    if how == "raw":
        return draw(st.sampled_from(RAW_BODIES))
    doc = draw(document)
    if how == "ascii":  # what json.dumps sends by default: a lone surrogate as a \ud800 escape
        return json.dumps(doc).encode()
    return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")  # invalid UTF-8 when surrogates


def test_thousands_of_signed_nasty_bodies_never_5xx_and_every_accepted_event_is_stored_or_visibly_failed(
        inbox, post_hook):
    account = inbox.fr_account
    accepted: dict[int, int] = {}  # delivery id -> events the 202 announced
    statuses: dict[int, int] = {}

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(bodies())
    def send(body: bytes) -> None:
        response = post_hook(account, None, raw=body)
        status = response.status_code
        statuses[status] = statuses.get(status, 0) + 1
        assert status in (202, 400, 413), (status, body[:300], response.content[:500])
        answer = response.json()
        if status == 202:
            accepted[answer["delivery"]] = answer["accepted"]
        elif status == 400:
            assert answer["error"] == "malformed" and answer["field"] and answer["detail"].startswith(answer["field"])
        else:
            assert len(body) > MAX_BODY_BYTES

    send()
    # the generated bodies reach every outcome, and a good share is accepted
    assert statuses.get(400, 0) > EXAMPLES // 5 and statuses.get(413, 0) >= 1, statuses
    assert len(accepted) > EXAMPLES // 5, statuses

    for _ in range(50):  # the worker, batch after batch, in this very process: it must survive every one
        if not process_pending_deliveries.call()["deliveries"]:
            break
    deliveries = {d.pk: d for d in InboundDelivery.objects.filter(pk__in=accepted)}
    assert set(deliveries) == set(accepted)
    stored = set(Message.objects.filter(conversation__account=account).values_list("external_id", flat=True))
    for pk, count in accepted.items():
        delivery = deliveries[pk]
        assert delivery.event_count == count == len(delivery.payload)
        assert delivery.state in (DeliveryState.DONE, DeliveryState.FAILED), (pk, delivery.state, delivery.error)
        if delivery.state == DeliveryState.FAILED:
            assert delivery.error, pk  # visibly
            continue
        missing = {e["id"] for e in delivery.payload} - stored
        assert not missing, (pk, missing)
    # everything the edge accepts, the worker stores: nothing accepted failed
    assert [d.error for d in deliveries.values() if d.state == DeliveryState.FAILED] == []
