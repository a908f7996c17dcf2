"""The query language: what parses, what it matches, and every mistake answered with its position (fuzzed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dandelion.listening.query import Doc, QueryIndex, QuerySyntaxError, check, compile_query, parse


def matches(query: str, text: str, **fields) -> bool:
    return compile_query(query).matches(Doc.build(text, **fields))


@pytest.mark.parametrize(("query", "text", "expected"), [
    ("acme", "I love ACME products", True),
    ("acme", "acmeville is nice", False),
    ("acme", "Great #Acme launch", True),
    ("#acme", "acme is great", False),
    ("#acme", "so #ACME", True),
    ("@acme", "hey @Acme help", True),
    ('"air max"', "new Air Max 90", True),
    ('"air max"', "max air", False),
    ("acme AND refund", "acme refund please", True),
    ("acme refund", "acme only", False),
    ("acme OR globex", "globex rocks", True),
    ("acme NOT refund", "acme refund", False),
    ("acme -refund", "acme refund", False),
    ("acme -refund", "acme ok", True),
    ("(acme OR globex) AND (outage OR panne)", "Globex en panne", True),
    ("(acme OR globex) AND (outage OR panne)", "Globex en forme", False),
    ("café", "Cafe ouvert", True),
    ("acm*", "acmecorp news", True),
    ("acme OR globex AND outage", "acme", True),  # AND binds tighter than OR
])
def test_matching(query, text, expected):
    assert matches(query, text) is expected


def test_fields():
    assert matches("acme lang:fr", "acme", lang="fr")
    assert not matches("acme lang:fr", "acme", lang="en")
    assert matches("acme network:bluesky", "acme", network="bluesky")
    assert matches("acme country:FR", "acme", country="fr")
    assert matches("author:@Jane", "anything", author="jane")
    assert not matches("acme NOT author:bot", "acme", author="bot")


@pytest.mark.parametrize(("query", "position", "words"), [
    ("acme AND", 5, "AND needs a term"),
    ("(acme OR globex", 0, "never closed"),
    ("acme)", 4, "no opening one"),
    ('acme "air max', 5, "quotation mark"),
    ("foo:bar", 0, "Unknown field"),
    ("lang:french acme", 0, "two-letter"),
    ("lang: acme", 0, "needs a value"),
    ("acme OR OR globex", 5, "OR needs a term"),
    ("()", 0, "empty"),
    ("ac*me", 2, "may only end"),
    ("NOT", 0, "needs a term"),
    ("#", 0, "hashtag"),
])
def test_errors_have_a_position(query, position, words):
    with pytest.raises(QuerySyntaxError) as err:
        compile_query(query)
    assert err.value.position == position
    assert words in err.value.message


@pytest.mark.parametrize("query", ["the", "NOT spam", "lang:en", "le OR la", "-acme", "network:x country:FR",
                                   '"of the"', ""])
def test_too_broad_queries_are_refused_with_a_reason(query):
    result = check(query)
    assert result["ok"] is False
    assert result["error"]


def test_limits():
    with pytest.raises(QuerySyntaxError, match="longer than"):
        parse("a" * 5000)
    with pytest.raises(QuerySyntaxError, match="levels deep"):
        parse("(" * 30 + "acme" + ")" * 30)
    with pytest.raises(QuerySyntaxError, match="more than"):
        parse(" ".join(["x"] * 250))
    with pytest.raises(QuerySyntaxError, match="NUL"):
        parse("acme\x00")


def test_index_finds_the_same_as_evaluating_every_query():
    queries = {1: "acme", 2: "#acme OR globex", 3: '"air max" -fake', 4: "acm* lang:fr", 5: "(acme OR x1) refund",
               6: "author:jane", 7: "@brand NOT spam"}
    index = QueryIndex.build(queries.items())
    texts = ["acme refund", "#acme", "Globex fake", "new air max", "air max fake", "acmecorp", "spam @brand",
             "hi @brand", "hello"]
    for text in texts:
        for lang in ("fr", "en"):
            doc = Doc.build(text, lang=lang, author="jane" if "hi" in text else "")
            expected = sorted(k for k, q in queries.items() if compile_query(q).matches(doc))
            assert sorted(index.match(doc)) == expected, (text, lang)


ALPHABET = st.sampled_from(list('abc "()#@:-*') + ["AND", "OR", "NOT", "lang:", "author:", " ", "é", "\u200b"])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_fuzz_never_crashes(text):
    """Any input parses or fails with a QuerySyntaxError whose position lies inside the text."""
    try:
        node = compile_query(text)
    except QuerySyntaxError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
    else:
        node.matches(Doc.build(text))
        assert node.to_text()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_fuzz_arbitrary_unicode(text):
    try:
        compile_query(text)
    except QuerySyntaxError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
