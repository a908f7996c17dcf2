"""One search over the knowledge base and the answers: ranked, highlighted, scoped to what the person may read.

* PostgreSQL: ``SearchEntry.document`` is a tsvector built with the row's language configuration (``english``,
  ``french``, else ``simple``), the title weighted A and the body B, under a GIN index; the query is parsed with the
  same configuration per language, ranked with ``ts_rank_cd`` and highlighted with ``ts_headline``.
* SQLite (the embedded default): the FTS5 table ``community_search_fts`` (``unicode61``, diacritics removed), ranked
  with ``bm25`` (title ×10), Porter stemming and word prefixes and highlighted with ``snippet``.

Both read the terms the same way: words only (``AND``, ``OR``, ``NOT``, quotes, ``*``, ``-``, parentheses and the
like are not operators here but ignored), stop words of English and French dropped; a query left with nothing raises
:class:`EmptySearchQuery` with a clear message. All the terms must match; when nothing does, any term may (the
ranking puts the rows with more of them first).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from dandelion.community.choices import SearchKind
from dandelion.community.exceptions import EmptySearchQuery
from dandelion.community.models import Article, SearchEntry
from dandelion.community.scoping import community_read_q

FTS_TABLE = "community_search_fts"
PG_CONFIGS = {"en": "english", "fr": "french"}
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
_START, _STOP = "\x02", "\x03"

STOP_WORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "you", "your", "yours", "yourself", "yourselves", "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en", "et", "eux", "il", "ils", "je", "la", "le", "les", "leur", "lui", "ma", "mais", "me", "même", "mes", "moi", "mon", "ne", "nos", "notre", "nous", "on", "ou", "où", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sur", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "c", "d", "j", "l", "m", "n", "s", "t", "y", "été", "étée", "être", "avoir", "ai", "as", "avons", "avez", "ont", "est", "sont", "était", "suis", "es", "sommes", "êtes"])
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    kind: str
    object_id: int
    title: str
    url: str
    language: str
    rank: float
    headline: SafeString


@dataclass(frozen=True)
class SearchResult:
    query: str
    terms: tuple[str, ...]
    hits: list[Hit]
    elapsed_ms: float
    backend: str
    matched_all_terms: bool


def parse_terms(query: str) -> list[str]:
    """The words of ``query`` to look for: no operators, no stop words, at most ``MAX_TERMS``; raises
    :class:`EmptySearchQuery` when nothing is left."""
    text = (query or "")[:MAX_QUERY_CHARS].replace("\x00", " ")
    words = [w.lower() for w in _WORD.findall(text) if w.strip("_")]
    terms: list[str] = []
    for word in words:
        word = word.strip("_")
        if word and word not in STOP_WORDS and word.upper() not in ("AND", "OR", "NOT", "NEAR") and word not in terms:
            terms.append(word)
    if not terms:
        if not text.strip():
            raise EmptySearchQuery(_("Type a few words to search for."), field="q")
        raise EmptySearchQuery(
            _("Nothing to search for: “%(q)s” has only common words or operators. Try more specific words.")
            % {"q": text.strip()[:80]}, field="q")
    return terms[:MAX_TERMS]


def _highlight(raw: str | None) -> SafeString:
    """The backend's snippet, with our private markers turned into <mark> around escaped text."""
    text = escape(raw or "")
    return mark_safe(text.replace(_START, "<mark>").replace(_STOP, "</mark>"))


def _visible_entries(user):
    """The entries ``user`` may read: articles of their subtree and of the units above them, every question and
    answer when the person may read questions."""
    from dandelion.core.permissions import has_perm

    article_q = community_read_q(user, Article, "unit_path")
    q = Q(kind=SearchKind.ARTICLE) if article_q is None else (Q(kind=SearchKind.ARTICLE) & article_q)
    if has_perm(user, "community.view_question"):
        q |= Q(kind__in=(SearchKind.QUESTION, SearchKind.ANSWER))
    return SearchEntry.objects.filter(q)


def search(user, query: str, *, kinds: tuple[str, ...] = (), language: str = "", limit: int = 20) -> SearchResult:
    """The entries ``user`` may read that match ``query``, best first, each with a highlighted extract."""
    terms = parse_terms(query)
    started = time.perf_counter()
    base = _visible_entries(user)
    if kinds:
        base = base.filter(kind__in=kinds)
    if language:
        base = base.filter(language=language)
    limit = max(1, min(int(limit), 100))
    backend = "postgresql" if connection.vendor == "postgresql" else "sqlite-fts5"
    run = _search_pg if backend == "postgresql" else _search_sqlite
    hits = run(base, terms, limit, match_all=True)
    matched_all = True
    if not hits and len(terms) > 1:
        hits, matched_all = run(base, terms, limit, match_all=False), False
    return SearchResult(query=query, terms=tuple(terms), hits=hits,
                        elapsed_ms=(time.perf_counter() - started) * 1000, backend=backend,
                        matched_all_terms=matched_all)


# --- PostgreSQL ----------------------------------------------------------------------------------------------------
#
# Ranking key (both paths): how many of the query's words the *title* holds (``title_document``, its own small
# tsvector under its own GIN index), then the share of the title they make (a short title that is all query words
# beats a long one that merely contains them: field-length normalisation, as BM25F does), then ``ts_rank_cd``
# over the whole document, then the id.
#
# Computing ``ts_rank_cd`` on every match is what cost 0.4–1 s at 100,000 entries when the words are common (tens of
# thousands of matches). So the candidates are bounded:
#
# * ``SELECT id … WHERE match LIMIT CANDIDATE_CAP + 1``: a selective query (≤ CANDIDATE_CAP matches) is ranked
#   exactly, all of its matches;
# * an unselective one is taken tier by tier of title coordination (the titles holding all the words, then all but
#   one, …, each tier through the title GIN index, at most CANDIDATE_CAP rows a tier) until a page is filled. The
#   order is the same key, so the result equals the exact ranking whenever no tier exceeds the cap (a test checks
#   it); past the cap, a tier's rows beyond CANDIDATE_CAP are not ranked (they share the same title tier).

CANDIDATE_CAP = 1000
MAX_COMBINATIONS = 70  # C(8, 4): a tier made of more word combinations than this is skipped
_PG_LANGS = (("en", "english"), ("fr", "french"), ("", "simple"))


def _pg_or_of_ands(config: str, groups) -> tuple[str, list]:
    """``plainto_tsquery(config, 'a b') || plainto_tsquery(config, 'c d')``: any group, all words of a group."""
    sql = " || ".join(["plainto_tsquery(%s::regconfig, %s)"] * len(groups))
    params: list = []
    for group in groups:
        params += [config, " ".join(group)]
    return f"({sql})", params


def _pg_match(column: str, groups) -> tuple[str, list]:
    """``column`` matches any of ``groups`` (each: all its words), with the row's language configuration (one
    branch per configuration so that the GIN index serves each)."""
    parts, params = [], []
    for lang, config in _PG_LANGS:
        tsq, tsq_params = _pg_or_of_ands(config, groups)
        cond = "language = %s" if lang else "language NOT IN ('en', 'fr')"
        parts.append(f"({cond} AND {column} @@ {tsq})")
        params += ([lang] if lang else []) + tsq_params
    return "(" + " OR ".join(parts) + ")", params


def _pg_case(expr_for) -> tuple[str, list]:
    """``CASE language WHEN 'en' THEN <expr english> … ELSE <expr simple> END``."""
    whens, params = [], []
    for lang, config in _PG_LANGS:
        sql, p = expr_for(config)
        if lang:
            whens.append(f"WHEN language = %s THEN {sql}")
            params += [lang, *p]
        else:
            whens.append(f"ELSE {sql}")
            params += p
    return "CASE " + " ".join(whens) + " END", params


def _pg_rank(ids: list[int], terms: list[str], limit: int, match_all: bool) -> list[dict]:
    """The ``limit`` best of ``ids`` by (title coordination, ts_rank_cd, id)."""
    groups = [terms] if match_all else [[t] for t in terms]

    def coord(config):
        return (" + ".join(["(title_document @@ plainto_tsquery(%s::regconfig, %s))::int"] * len(terms)),
                [x for t in terms for x in (config, t)])

    def rank(config):
        tsq, p = _pg_or_of_ands(config, groups)
        return f"ts_rank_cd(document, {tsq}, 1)", p

    coord_sql, coord_params = _pg_case(coord)
    rank_sql, rank_params = _pg_case(rank)
    sql = (f"SELECT id, kind, object_id, title, url, language, coord, rank FROM ("
           f"SELECT id, kind, object_id, title, url, language, length(title_document) AS title_len, "
           f"{coord_sql} AS coord, {rank_sql} AS rank FROM community_searchentry WHERE id = ANY(%s)) AS c "
           f"ORDER BY coord DESC, coord::float / GREATEST(title_len, 1) DESC, rank DESC, id LIMIT %s")
    with connection.cursor() as cur:
        cur.execute(sql, [*coord_params, *rank_params, list(ids), limit])
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _pg_candidates(base, terms: list[str], limit: int, match_all: bool, cap: int) -> list[int]:
    """The ids to rank: every match when there are at most ``cap``; else the title tiers (see above)."""
    import itertools

    doc_sql, doc_params = _pg_match("document", [terms] if match_all else [[t] for t in terms])
    # the scope's conditions and the match in one WHERE (no ordered sub-select of the visible rows)
    matches = base.order_by().extra(where=[doc_sql], params=doc_params).values_list("id", flat=True)
    ids = list(matches[: cap + 1])
    if len(ids) <= cap:
        return ids
    picked: list[int] = []
    for size in range(len(terms), 0, -1):
        combos = list(itertools.combinations(terms, size))
        if len(combos) > MAX_COMBINATIONS:
            continue
        title_sql, title_params = _pg_match("title_document", combos)
        picked += list(matches.extra(where=[title_sql], params=title_params).exclude(id__in=picked)[:cap])
        if len(picked) >= limit:
            return picked
    # fewer than a page of matches hold a query word in their title: complete with other matches
    return picked + list(matches.exclude(id__in=picked)[:cap])


def _search_pg(base, terms: list[str], limit: int, *, match_all: bool, cap: int | None = None) -> list[Hit]:
    from django.contrib.postgres.search import SearchHeadline, SearchQuery
    from django.db.models import Case, TextField, Value, When

    ids = _pg_candidates(base, terms, limit, match_all, CANDIDATE_CAP if cap is None else cap)
    if not ids:
        return []
    rows = _pg_rank(ids, terms, limit, match_all)
    # the headlines only for the page of results (ts_headline re-parses the text)
    head_whens = []
    for lang, config in _PG_LANGS:
        tsq = None
        for term in terms:
            one = SearchQuery(term, config=config, search_type="plain")
            tsq = one if tsq is None else (tsq & one if match_all else tsq | one)
        lang_q = Q(language=lang) if lang else ~Q(language__in=list(PG_CONFIGS))
        head_whens.append(When(lang_q, then=SearchHeadline(
            "body", tsq, config=config, start_sel=_START, stop_sel=_STOP, max_words=30, min_words=12,
            max_fragments=2, fragment_delimiter=" … ")))
    heads = dict(SearchEntry.objects.filter(id__in=[r["id"] for r in rows])
                 .annotate(head=Case(*head_whens, default=Value(""), output_field=TextField()))
                 .values_list("id", "head"))
    return [Hit(kind=r["kind"], object_id=r["object_id"], title=r["title"], url=r["url"], language=r["language"],
                rank=float(r["coord"]) + float(r["rank"] or 0), headline=_highlight(heads.get(r["id"])))
            for r in rows]


_PG_ROW_CONFIG = ("CASE language WHEN 'en' THEN 'english'::regconfig WHEN 'fr' THEN 'french'::regconfig "
                  "ELSE 'simple'::regconfig END")


def pg_document_sql() -> str:
    """The SQL expression (over ``community_searchentry``'s columns) that builds ``document``."""
    return (f"setweight(to_tsvector({_PG_ROW_CONFIG}, coalesce(title, '')), 'A') || "
            f"setweight(to_tsvector({_PG_ROW_CONFIG}, coalesce(body, '')), 'B')")


def pg_title_document_sql() -> str:
    """The SQL expression that builds ``title_document`` (the title alone: the first ranking key)."""
    return f"to_tsvector({_PG_ROW_CONFIG}, coalesce(title, ''))"


def _pg_set_documents() -> str:
    return f"document = {pg_document_sql()}, title_document = {pg_title_document_sql()}"


# --- SQLite FTS5 ---------------------------------------------------------------------------------------------------


def _fts_query(terms: list[str], match_all: bool) -> str:
    # a prefix query per word (``"client"*`` finds "clients"), on top of the Porter stemmer of the table
    quoted = ['"' + t.replace('"', '""') + '"' + ("*" if len(t) >= 4 else "") for t in terms]
    return (" AND " if match_all else " OR ").join(quoted)


def _search_sqlite(base, terms: list[str], limit: int, *, match_all: bool) -> list[Hit]:
    try:
        visible_sql, visible_params = base.order_by().values("id").query.sql_with_params()
    except EmptyResultSet:  # the person may read nothing
        return []
    sql = (f"SELECT f.rowid, bm25({FTS_TABLE}, 10.0, 1.0) AS score, "
           f"snippet({FTS_TABLE}, 1, %s, %s, ' … ', 24) "
           f"FROM {FTS_TABLE} f WHERE {FTS_TABLE} MATCH %s AND f.rowid IN ({visible_sql}) "
           f"ORDER BY score, f.rowid LIMIT %s")
    with connection.cursor() as cur:
        cur.execute(sql, [_START, _STOP, _fts_query(terms, match_all), *visible_params, limit])
        found = cur.fetchall()
    if not found:
        return []
    entries = SearchEntry.objects.in_bulk([r[0] for r in found])
    hits = []
    for rowid, score, snippet in found:
        e = entries.get(rowid)
        if e is None:
            continue
        hits.append(Hit(kind=e.kind, object_id=e.object_id, title=e.title, url=e.url, language=e.language,
                        rank=-float(score), headline=_highlight(snippet)))
    return hits


# --- keeping the index -------------------------------------------------------------------------------------------


def index_entry(*, kind: str, object_id: int, title: str, body: str, url: str, language: str = "en",
                unit_path: str = "") -> SearchEntry:
    """Add or refresh one entry (called by the services inside their transaction)."""
    entry, _created = SearchEntry.objects.update_or_create(
        kind=kind, object_id=object_id,
        defaults={"title": title[:200], "body": body, "url": url, "language": language, "unit_path": unit_path})
    _refresh_backend([entry.pk])
    return entry


def remove_entry(*, kind: str, object_id: int) -> None:
    ids = list(SearchEntry.objects.filter(kind=kind, object_id=object_id).values_list("id", flat=True))
    if not ids:
        return
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(i,) for i in ids])
    SearchEntry.objects.filter(id__in=ids).delete()


def _refresh_backend(ids: list[int]) -> None:
    """Rebuild the backend's copy of the entries ``ids`` (the tsvector, or the FTS5 rows)."""
    if not ids:
        return
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"UPDATE community_searchentry SET {_pg_set_documents()} WHERE id = ANY(%s)", [list(ids)])
        elif connection.vendor == "sqlite":
            marks = ",".join(["%s"] * len(ids))
            cur.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({marks})", ids)
            cur.execute(f"INSERT INTO {FTS_TABLE}(rowid, title, body) SELECT id, title, body "
                        f"FROM community_searchentry WHERE id IN ({marks})", ids)


def refresh_all() -> int:
    """Rebuild the whole backend index from the entries (after a bulk load); returns the number of entries."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"UPDATE community_searchentry SET {_pg_set_documents()}")
        elif connection.vendor == "sqlite":
            cur.execute(f"DELETE FROM {FTS_TABLE}")
            cur.execute(f"INSERT INTO {FTS_TABLE}(rowid, title, body) SELECT id, title, body FROM community_searchentry")
    return SearchEntry.objects.count()
