"""The tolerant text helpers never raise on content: lone surrogates, bytes, NUL, hostile HTML."""

from __future__ import annotations

import pytest

from dandelion.connectors.tolerant import bounded_id, clean_text, html_to_text


@pytest.mark.parametrize("markup", ["<p>a\ud800b</p>", "a\udfff", "<b>\udc80</b>\ud83d", "\ud800" * 50_000])
def test_html_to_text_replaces_lone_surrogates_instead_of_crashing(markup):
    text = html_to_text(markup)
    text.encode("utf-8")  # valid Unicode
    assert "?" in text


def test_html_to_text_still_sanitises_and_reads_bytes():
    assert html_to_text("<p>Hi\ud800</p><script>alert(1)\udfff</script><p>there</p>") == "Hi?\nthere"
    assert html_to_text(b"<b>caf\xc3\xa9 \xff</b>") == "café \ufffd"


def test_clean_text_and_ids_with_surrogates():
    assert clean_text("a\ud800\x00b") == "a?b"
    assert bounded_id("id\udfff") == "id?"
