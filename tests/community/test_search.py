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


# --- one function, two backends: the same judged answers; and the bounded ranking equals the exact one --------------

JUDGED = (
    ("Crisis escalation checklist", "Escalate a viral complaint to the PR manager on duty within 15 minutes.",
     "viral complaint escalate"),
    ("Holding statement template", "We are aware of the situation and looking into it.", "holding statement"),
    ("Hiding spam during live videos", "Pin the house rules, hide repeated links, a second moderator watches.",
     "spam live video"),
    ("Giveaway terms and notary", "Giveaways need published terms; prizes above the threshold need a notary.",
     "giveaway notary"),
    ("Answering negative reviews", "Thank, acknowledge, move to private messages, close in public.",
     "negative reviews"),
    ("Répondre aux avis négatifs", "Remercier, reconnaître le problème, proposer une solution en privé.",
     "avis négatifs"),
)
FILLER = ("Live video schedule", "Spam and giveaway calendar", "Review of the campaign calendar",
          "Crisis video for the launch", "Statement of the weekly report")


@pytest.fixture
def judged(org):
    from dandelion.core.actors import SYSTEM

    for title in FILLER:  # the same words, elsewhere: a ranking must still put the judged article first
        services.create_article(actor=SYSTEM, unit=org.hub, title=title,
                                body="Live video, spam, giveaway, notary, review, statement and crisis notes.")
    for title, body, _query in JUDGED:
        services.create_article(actor=SYSTEM, unit=org.hub, title=title, body=body,
                                language="fr" if title.startswith("Répondre") else "en")


@pytest.mark.parametrize(("title", "query"), [(t, q) for t, _b, q in JUDGED])
def test_judged_set_first_on_either_backend(org, judged, title, query):
    assert titles(search.search(org.users.fr_cm, query))[0] == title


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bounded candidate ranking is PostgreSQL's")
def test_bounded_ranking_equals_the_exact_one(org):
    """More matches than the cap: taken tier by tier of title coordination; when no tier exceeds the cap, the
    page equals the exact ranking of every match."""
    from dandelion.community.models import SearchEntry
    from dandelion.core.actors import SYSTEM

    titles_ = ["Alpha beta guide", "Beta alpha notes", "Alpha only", "Beta only", "Alpha again"] + [
        f"Unrelated {i}" for i in range(7)]
    for i, title in enumerate(titles_):
        services.create_article(actor=SYSTEM, unit=org.hub, title=title,
                                body="alpha beta " * (1 + i % 3) + "gamma")
    base = SearchEntry.objects.all()
    exact = search._search_pg(base, ["alpha", "beta"], 5, match_all=True, cap=10_000)
    bounded = search._search_pg(base, ["alpha", "beta"], 5, match_all=True, cap=5)
    assert [h.title for h in bounded] == [h.title for h in exact]
    assert {h.title for h in exact[:2]} == {"Alpha beta guide", "Beta alpha notes"}  # the whole query in the title
    assert {h.title for h in exact[2:5]} == {"Alpha only", "Beta only", "Alpha again"}
    # no title holds the word and there are more matches than the cap: a page of matches, still in rank order
    bounded = search._search_pg(base, ["gamma"], 8, match_all=True, cap=5)
    assert len(bounded) == 5 and all(h.title in titles_ for h in bounded)
    assert [h.rank for h in bounded] == sorted((h.rank for h in bounded), reverse=True)
