"""Parsing e-mails into events: threading ids, HTML sanitised, quotes cut, attachments listed, hostile input
bounded (no server needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from dandelion.connectors.email.parse import message_ids, parse_message, strip_quoted
from dandelion.connectors.tolerant import MAX_ID_CHARS, MAX_TEXT_CHARS

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def parse(raw: bytes, **kw):
    return parse_message(raw, account_address="Support@Example.test", now=NOW, **kw)


def test_threading_ids_and_author():
    event = parse(b"From: \"Camille\" <Camille@Cust.test>\r\nSubject: Re: Order\r\nMessage-ID: <m2@cust.test>\r\n"
                  b"In-Reply-To: <reply1@example.test>\r\nReferences: <m1@cust.test> <reply1@example.test>\r\n"
                  b"Date: Fri, 04 Dec 2026 10:00:00 +0000\r\n\r\nThanks!\r\n\r\nOn Thu, Acme wrote:\r\n> We look\r\n")
    assert event.external_id == "<m2@cust.test>" and event.in_reply_to == "<reply1@example.test>"
    assert event.text == "Thanks!"  # a reply: no subject line, the quoted history cut
    assert event.author.external_id == "camille@cust.test" and event.author.name == "Camille"
    assert event.created_at == dt.datetime(2026, 12, 4, 10, tzinfo=dt.UTC) and not event.from_account
    only_refs = parse(b"From: a@b.test\r\nReferences: <r1@x> <r2@x>\r\nMessage-ID: <z@x>\r\n\r\nhi")
    assert only_refs.in_reply_to == "<r2@x>"


def test_own_address_is_an_echo():
    assert parse(b"From: support@example.TEST\r\nMessage-ID: <e@x>\r\n\r\nhi").from_account


def test_html_only_is_sanitised_and_attachments_listed():
    raw = (b"From: a@b.test\r\nSubject: Facture\r\nMessage-ID: <h@b.test>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<style>.x{}</style><p>Voir <a href='javascript:x'>pi\xc3\xa8ce</a></p><script>steal()</script>\r\n"
           b"--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"photo.png\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + b"QUJD" * 1000 + b"\r\n--B--\r\n")
    event = parse(raw)
    assert event.text.startswith("Facture\n\nVoir pièce")
    assert "steal" not in event.text and "javascript" not in event.text and "<" not in event.text
    assert "Attachments: photo.png (image/png, 3 KB)" in event.text
    assert event.raw["attachments"][0]["filename"] == "photo.png"


@pytest.mark.parametrize("raw", [
    b"",
    b"\x00\x01\x02",
    b"From: \xff\xfe\r\nSubject: =?bogus?x?zz?=\r\nContent-Type: text/plain; charset=no-such\r\n\r\n\xff\xfe\xfd",
    b"From: a@b\r\nDate: Mon, 99 Foo 99999 99:99:99 +9999\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notb64",
    b"From: a@b\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--",
    b"Message-ID: <" + b"x" * 5000 + b"@y>\r\n\r\nbody",
])
def test_hostile_messages_never_raise_and_stay_bounded(raw):
    event = parse(raw)
    assert event.external_id and len(event.external_id) <= MAX_ID_CHARS + 10
    assert "\x00" not in event.text and len(event.text) <= MAX_TEXT_CHARS
    assert NOW - dt.timedelta(days=365 * 40) < event.created_at <= NOW + dt.timedelta(hours=1)
    event.text.encode("utf-8")  # valid Unicode (no lone surrogates)


def test_huge_body_and_future_date_are_bounded():
    event = parse(b"From: a@b.test\r\nMessage-ID: <big@b>\r\nDate: Thu, 01 Jan 2099 00:00:00 +0000\r\n\r\n"
                  + b"word " * 100_000)
    assert len(event.text) == MAX_TEXT_CHARS and event.text.endswith("…") and event.created_at == NOW


def test_headers_only_note_for_oversized_messages():
    event = parse(b"From: a@b.test\r\nSubject: Scan\r\nMessage-ID: <s@b>\r\n\r\n", truncated_size=30 * 1024 * 1024)
    assert event.text.startswith("Scan\n\n(This message is 30.0 MB, over the size limit")


def test_message_without_id_gets_a_stable_digest():
    raw = b"From: a@b.test\r\nSubject: no id\r\n\r\nbody"
    assert parse(raw).external_id == parse(raw).external_id != parse(raw + b"!").external_id


def test_helpers():
    assert message_ids("<a@b> junk <c@d>") == ["<a@b>", "<c@d>"]
    assert strip_quoted("New text\n\n> old\n> older") == "New text"
    assert strip_quoted("> only quoted") == "> only quoted"


def test_lone_surrogates_from_a_utf7_html_part_never_crash():
    """UTF-7 can carry a lone surrogate ("+2AA-" decodes to U+D800): the HTML sanitiser (nh3) refuses those, so
    they are replaced before it runs; the subject and file name on the same path are cleaned too."""
    raw = (b"From: a@b.test\r\nMessage-ID: <u7@b>\r\nSubject: =?utf-7?q?Bad_+2AA-_subject?=\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
           b"--B\r\nContent-Type: text/html; charset=utf-7\r\n\r\n<p>Hello +2AA- world</p>\r\n"
           b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
           b"filename*=utf-7''x+2AA-.pdf\r\n\r\n%PDF\r\n--B--\r\n")
    event = parse(raw)
    assert "Hello ? world" in event.text and event.text.startswith("Bad ? subject")
    event.text.encode("utf-8")
    assert event.raw["attachments"][0]["filename"].encode("utf-8")
