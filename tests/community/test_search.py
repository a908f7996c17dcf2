"""The search, on whichever database the run uses (SQLite FTS5 by default, PostgreSQL with DATABASE_URL)."""

import pytest
from django.db import connection

from dandelion.community import search, services
from dandelion.community.exceptions import EmptySearchQuery


def titles(result):
    return [h.title for h in result.hits]


def test_ranked_highlighted_and_scoped(kb, org):
    result = search.search(org.users.fr_cm, "escalate viral")
    assert result.backend == ("postgresql" if connection.vendor == "postgresql" else "sqlite-fts5")
    assert titles(result)[0] == "Crisis escalation checklist"
    assert "<mark>" in result.hits[0].headline
    # a Spanish article is not found by France's people, but by Spain's
    assert "Spanish giveaway rules" not in titles(search.search(org.users.fr_cm, "giveaway notary"))
    assert titles(search.search(org.users.es_agent, "giveaway notary")) == ["Spanish giveaway rules"]
    assert search.search(org.users.nobody, "escalate").hits == []


def test_french_article_with_stemming_and_accents(kb, org):
    # "clients mécontents": found from the French words, with another form of them
    hits = titles(search.search(org.users.fr_cm, "client mécontent"))
    assert "Répondre aux clients mécontents" in hits


def test_questions_and_answers_are_searched(kb, org):
    result = search.search(org.users.fr_cm, "moderation spam", kinds=("answer",))
    assert [h.kind for h in result.hits] == ["answer"]
    assert result.hits[0].url.endswith(f"#answer-{kb.answer.pk}")


def test_any_word_when_no_row_has_all(kb, org):
    result = search.search(org.users.fr_cm, "escalate zzzunknownword")
    assert not result.matched_all_terms
    assert titles(result)[0] == "Crisis escalation checklist"


@pytest.mark.parametrize("query", ["the and of", "AND OR NOT", '"" * - ( )', "le la les et", "   "])
def test_only_stop_words_or_operators_is_a_clear_error(kb, org, query):
    with pytest.raises(EmptySearchQuery) as err:
        search.search(org.users.fr_cm, query)
    assert err.value.message


def test_highlight_escapes_the_text(org):
    from dandelion.core.actors import SYSTEM

    services.create_article(actor=SYSTEM, unit=org.hub, title="Scripts",
                            body="Never paste <script>alert(1)</script> into a caption about escalation.")
    hit = search.search(org.users.fr_cm, "caption escalation").hits[0]
    # SQLite's snippet keeps the text (escaped here); PostgreSQL's ts_headline drops the tags itself
    assert "<script>" not in hit.headline and "<mark>" in hit.headline


def test_archived_articles_leave_the_index(kb, org):
    services.archive_article(kb.group, actor=org.users.hub_admin)
    assert "Crisis escalation checklist" not in titles(search.search(org.users.hub_admin, "escalate viral"))
