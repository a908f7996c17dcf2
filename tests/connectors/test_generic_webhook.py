"""The generic webhook format at the HTTP seam: signature, size, payload validation, batches."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dandelion.connectors import registry
from dandelion.connectors.errors import PayloadError, PayloadTooLarge, SignatureError
from dandelion.connectors.generic import MAX_BATCH, MAX_BODY_BYTES, sign
from dandelion.connectors.generic.webhook import parse_payload, verify_signature


def payload(**overrides):
    base = {
        "id": "c-1001",
        "kind": "comment",
        "text": "Où est ma commande ?",
        "created_at": "2025-03-01T10:15:00+01:00",
        "in_reply_to": "post-77",
        "author": {
            "id": "u-42",
            "name": "Camille",
            "handle": "@camille",
            "followers": 1200,
            "language": "fr",
            "country": "fr",
        },
    }
    return base | overrides


@pytest.fixture
def connector():
    return registry.get("generic")


def test_sign_matches_a_known_hmac_vector():
    # computed independently: HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog")
    assert sign(b"The quick brown fox jumps over the lazy dog", "key") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_signed_single_event_parses(connector, account, signed):
    body, headers = signed(payload())
    [event] = connector.parse_webhook(account, body, headers)
    assert event.external_id == "c-1001" and event.kind == "comment" and event.text == "Où est ma commande ?"
    assert event.created_at == dt.datetime(2025, 3, 1, 9, 15, tzinfo=dt.UTC)
    assert event.in_reply_to == "post-77" and event.from_account is False
    assert event.author.external_id == "u-42" and event.author.followers == 1200
    assert (event.author.language, event.author.country) == ("fr", "FR")
    assert event.raw["author"]["handle"] == "@camille"


def test_header_lookup_is_case_insensitive_and_accepts_wsgi_keys(connector, account, signed):
    body, headers = signed(payload())
    value = headers["X-Dandelion-Signature"]
    assert connector.parse_webhook(account, body, {"x-dandelion-signature": value})
    assert connector.parse_webhook(account, body, {"HTTP_X_DANDELION_SIGNATURE": value})


def test_missing_signature_is_401(connector, account):
    with pytest.raises(SignatureError) as info:
        connector.parse_webhook(account, json.dumps(payload()).encode(), {})
    assert info.value.missing and info.value.http_status == 401 and info.value.permanent


@pytest.mark.parametrize(
    "header",
    [
        "sha256=" + "0" * 64,  # well-formed, wrong
        "sha1=abcdef",  # wrong scheme
        "sha256=not-hex",  # malformed
    ],
)
def test_bad_signature_is_403(connector, account, header):
    with pytest.raises(SignatureError) as info:
        connector.parse_webhook(account, json.dumps(payload()).encode(), {"X-Dandelion-Signature": header})
    assert info.value.http_status == 403


def test_signature_with_another_secret_or_tampered_body_is_rejected(connector, account, signed):
    body, headers = signed(payload(), secret="someone-else")
    with pytest.raises(SignatureError):
        connector.parse_webhook(account, body, headers)
    body, headers = signed(payload())
    with pytest.raises(SignatureError):
        connector.parse_webhook(account, body.replace(b"c-1001", b"c-1002"), headers)


def test_account_without_secret_cannot_verify(signed):
    body, headers = signed(payload())
    with pytest.raises(SignatureError, match="no webhook secret"):
        verify_signature(body, headers, "")


def test_oversized_body_is_rejected_before_anything_else(connector, account, signed):
    big = payload(text="x" * 9000)
    body = json.dumps({"events": [big] * 40}).encode()
    assert len(body) > MAX_BODY_BYTES
    body, headers = signed(body)
    with pytest.raises(PayloadTooLarge) as info:
        connector.parse_webhook(account, body, headers)
    assert info.value.http_status == 413
    with pytest.raises(PayloadTooLarge):  # even unsigned: size is checked first
        connector.parse_webhook(account, body, {})
    assert MAX_BODY_BYTES == 256 * 1024


def test_batch_parses_in_order(connector, account, signed):
    events = [payload(id=f"c-{i}", kind=kind) for i, kind in enumerate(["comment", "mention", "dm", "reply"])]
    body, headers = signed({"events": events})
    parsed = connector.parse_webhook(account, body, headers)
    assert [(e.external_id, e.kind) for e in parsed] == [
        ("c-0", "comment"),
        ("c-1", "mention"),
        ("c-2", "dm"),
        ("c-3", "reply"),
    ]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"events": []}, "events: must hold 1 to 100 events, got 0"),
        ({"events": [payload()] * (MAX_BATCH + 1)}, "events: must hold 1 to 100 events, got 101"),
        ({"events": {"id": 1}}, "events: must be a list"),
        ({"events": [payload(), payload(author={"name": "x"})]}, "events[1].author.id: required"),
        ([payload()], "body: must be an object"),
    ],
)
def test_batch_errors_name_the_path(body, where):
    with pytest.raises(PayloadError) as info:
        parse_payload(json.dumps(body).encode())
    assert str(info.value) == where


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"author": {"name": "no id"}}, "author.id: required"),
        ({"author": "u-42"}, "author: must be an object"),
        ({"author": None}, "author: required"),
        ({"id": None}, "id: required"),
        ({"id": ""}, "id: must not be empty"),
        ({"id": 3.5}, "id: must be a string"),
        ({"kind": "story"}, "kind: must be one of comment, dm, mention, reply"),
        ({"kind": None}, "kind: required"),
        ({"text": None}, "text: required"),
        ({"text": 12}, "text: must be a string"),
        ({"text": "x" * 10_001}, "text: must be at most 10,000 characters"),
        ({"created_at": "yesterday"}, "created_at: not an ISO 8601 date-time: 'yesterday'"),
        ({"created_at": 1735689600}, "created_at: must be an ISO 8601 string"),
        ({"in_reply_to": ["a"]}, "in_reply_to: must be a string"),
        ({"from_account": "yes"}, "from_account: must be true or false"),
        (
            {"author": {"id": "u", "followers": -1}},
            "author.followers: must be a non-negative integer or null",
        ),
        (
            {"author": {"id": "u", "followers": True}},
            "author.followers: must be a non-negative integer or null",
        ),
        (
            {"author": {"id": "u", "language": "french"}},
            "author.language: must be a language code such as 'fr' or 'pt-BR'",
        ),
        (
            {"author": {"id": "u", "country": "FRA"}},
            "author.country: must be an ISO 3166-1 alpha-2 code such as 'SN'",
        ),
    ],
)
def test_malformed_event_names_the_field(change, message):
    with pytest.raises(PayloadError) as info:
        parse_payload(json.dumps(payload(**change)).encode())
    assert str(info.value) == message
    assert info.value.http_status == 400


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b""])
def test_undecodable_body_is_a_payload_error(body):
    with pytest.raises(PayloadError) as info:
        parse_payload(body)
    assert info.value.path == "body"


def test_lenient_parts_of_the_format():
    [event] = parse_payload(
        json.dumps(
            payload(
                id=123,
                created_at="2025-03-01T10:15:00",
                in_reply_to=None,
                from_account=True,
                extra={"any": "thing"},
                author={"id": 9},
            )
        ).encode()
    )
    assert event.external_id == "123" and event.author.external_id == "9"
    assert event.created_at == dt.datetime(2025, 3, 1, 10, 15, tzinfo=dt.UTC)  # no offset: UTC
    assert event.in_reply_to is None and event.from_account is True
    assert event.author.followers is None and event.author.language is None
    assert event.raw["extra"] == {"any": "thing"}
    [z] = parse_payload(json.dumps(payload(created_at="2025-03-01T10:15:00Z")).encode())
    assert z.created_at.utcoffset() == dt.timedelta(0)


def test_text_at_the_limit_is_accepted():
    [event] = parse_payload(json.dumps(payload(text="é" * 10_000)).encode())
    assert len(event.text) == 10_000
