"""The listening query language: a hand-written parser, a matcher over a mention, and an index of queries.

Grammar (operators in capitals; juxtaposition is AND; NOT binds tighter than AND, AND tighter than OR)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | primary
    primary := "(" or ")" | '"' phrase '"' | field ":" value | "#"tag | "@"handle | word ["*"]
    field   := lang | network | country | author

``word`` matches a whole word of the text (case- and accent-insensitive, hashtags included: ``nike`` matches
``#Nike``); ``word*`` matches words starting with ``word``; ``"a b"`` the words in that order; ``#tag`` only the
hashtag; ``@handle`` an @-mention in the text or the author's handle; ``lang:fr``, ``network:bluesky``,
``country:FR``, ``author:handle`` the mention's fields. Every mistake is a :class:`QuerySyntaxError` with the
0-based position in the text and a message meant for the person typing the query.

A query must be *selective*: it must require at least one content term (word, phrase, hashtag, @mention or
author) that is not a stop word on every branch. ``NOT spam``, ``lang:en`` or ``the`` alone would match (almost)
everything and are refused with the reason. Every selective query has *anchors*: terms of which at least one
appears in any matching mention, so :class:`QueryIndex` only evaluates the few queries whose anchors are in the
mention (200 queries cost a handful of dictionary look-ups per mention, not 200 evaluations).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

MAX_QUERY_LENGTH = 2000
MAX_TERMS = 200
MAX_DEPTH = 20
FIELDS = ("lang", "network", "country", "author")
OPERATORS = ("AND", "OR", "NOT")

#: Words too common to anchor a query (English and French: the UI's languages, plus the commonest of the others).
STOP_WORDS = frozenset(["a", "an", "the", "and", "or", "not", "of", "to", "in", "on", "at", "for", "from", "by", "with", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "as", "i", "you", "he", "she", "we", "they", "me", "my", "your", "our", "their", "his", "her", "rt", "http", "https", "www", "com", "co", "amp", "le", "la", "les", "un", "une", "des", "de", "du", "et", "ou", "en", "au", "aux", "à", "a", "ce", "cet", "cette", "ces", "est", "sont", "il", "elle", "ils", "elles", "je", "tu", "nous", "vous", "on", "pour", "par", "sur", "dans", "avec", "que", "qui", "pas", "ne", "se", "sa", "son", "ses", "leur", "leurs", "y", "l", "d", "qu", "el", "los", "las", "y", "o", "del", "al", "es", "en", "por", "con", "para", "una", "unos", "der", "die", "das", "und", "oder", "ist", "nicht", "ein", "eine", "il", "lo", "gli", "e", "di", "che"])


class QuerySyntaxError(ValueError):
    """A query that cannot be used; ``position`` is the 0-based offset of the mistake (None: the whole query)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.message = message
        self.position = position
        where = f" (at character {position + 1})" if position is not None else ""
        super().__init__(f"{message}{where}")


# --- text normalisation --------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[#@]?\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without accents: ``Éclair`` → ``eclair``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(slots=True)
class Doc:
    """A mention prepared once for every query: folded words, hashtags, @mentions and fields."""

    words: list[str]
    word_set: frozenset[str]
    hashtags: frozenset[str]
    mentions: frozenset[str]
    joined: str
    lang: str = ""
    network: str = ""
    country: str = ""
    author: str = ""

    @classmethod
    def build(cls, text: str, *, lang: str = "", network: str = "", country: str = "", author: str = "") -> Doc:
        words: list[str] = []
        tags: set[str] = set()
        ats: set[str] = set()
        for token in _TOKEN_RE.findall(fold(text or "")):
            if token[0] == "#":
                tags.add(token[1:])
                words.append(token[1:])
            elif token[0] == "@":
                ats.add(token[1:])
            else:
                words.append(token)
        author_f = fold(author or "").lstrip("@")
        if author_f:
            ats.add(author_f)
        return cls(words=words, word_set=frozenset(words), hashtags=frozenset(tags), mentions=frozenset(ats),
                   joined=" " + " ".join(words) + " ", lang=fold(lang or "")[:2] if lang else "",
                   network=fold(network or ""), country=fold(country or ""), author=author_f)

    def index_keys(self) -> set[str]:
        """The index keys this document can satisfy (see :meth:`Node.anchors`)."""
        return ({f"w:{w}" for w in self.word_set} | {f"#:{t}" for t in self.hashtags}
                | {f"@:{m}" for m in self.mentions})


# --- the syntax tree -----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Node:
    kind: str  # and, or, not, word, prefix, phrase, hashtag, mention, field
    value: str = ""
    field_name: str = ""
    children: tuple[Node, ...] = ()
    position: int = 0

    def matches(self, doc: Doc) -> bool:
        k = self.kind
        if k == "word":
            return self.value in doc.word_set
        if k == "and":
            return all(c.matches(doc) for c in self.children)
        if k == "or":
            return any(c.matches(doc) for c in self.children)
        if k == "not":
            return not self.children[0].matches(doc)
        if k == "phrase":
            return f" {self.value} " in doc.joined
        if k == "hashtag":
            return self.value in doc.hashtags
        if k == "mention":
            return self.value in doc.mentions
        if k == "prefix":
            return any(w.startswith(self.value) for w in doc.word_set)
        if k == "field":
            if self.field_name == "author":
                return doc.author == self.value
            return getattr(doc, self.field_name) == self.value
        raise AssertionError(k)

    # A node is selective when every mention it matches must contain one of its content terms.
    def selective(self) -> bool:
        k = self.kind
        if k == "and":
            return any(c.selective() for c in self.children)
        if k == "or":
            return all(c.selective() for c in self.children)
        if k == "not":
            return False
        if k in ("word", "prefix"):
            return self.value not in STOP_WORDS and len(self.value) >= (3 if k == "prefix" else 1)
        if k == "phrase":
            return any(w not in STOP_WORDS for w in self.value.split())
        if k == "field":
            return self.field_name == "author"
        return True  # hashtag, mention

    def anchors(self) -> set[str] | None:
        """Index keys of which one at least is in any matching document; None when none can be given."""
        k = self.kind
        if k == "word":
            return {f"w:{self.value}"}
        if k == "hashtag":
            return {f"#:{self.value}"}
        if k == "mention":
            return {f"@:{self.value}"}
        if k == "field" and self.field_name == "author":
            return {f"@:{self.value}"}
        if k == "phrase":
            words = [w for w in self.value.split() if w not in STOP_WORDS] or self.value.split()
            return {f"w:{words[0]}"}
        if k == "and":
            best: set[str] | None = None
            for c in self.children:
                a = c.anchors()
                if a is not None and (best is None or len(a) < len(best)):
                    best = a
            return best
        if k == "or":
            out: set[str] = set()
            for c in self.children:
                a = c.anchors()
                if a is None:
                    return None
                out |= a
            return out
        return None  # not, prefix, lang/network/country

    def terms(self) -> list[str]:
        """The positive content terms, for display and the database prefilter."""
        if self.kind in ("and", "or"):
            return [t for c in self.children for t in c.terms()]
        if self.kind == "not":
            return []
        if self.kind == "hashtag":
            return ["#" + self.value]
        if self.kind == "mention":
            return ["@" + self.value]
        if self.kind in ("word", "phrase", "prefix"):
            return [self.value]
        return []

    def count(self) -> int:
        return 1 + sum(c.count() for c in self.children)

    def to_text(self) -> str:
        k = self.kind
        if k in ("and", "or"):
            return "(" + f" {k.upper()} ".join(c.to_text() for c in self.children) + ")"
        if k == "not":
            return "NOT " + self.children[0].to_text()
        if k == "phrase":
            return f'"{self.value}"'
        if k == "hashtag":
            return "#" + self.value
        if k == "mention":
            return "@" + self.value
        if k == "prefix":
            return self.value + "*"
        if k == "field":
            return f"{self.field_name}:{self.value}"
        return self.value


# --- tokenizer and parser ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # ( ) AND OR NOT MINUS PHRASE TERM END
    text: str
    pos: int


_SPECIAL = set('()"')


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok(c, c, i))
            i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError(_("This quotation mark is never closed"), i)
            toks.append(_Tok("PHRASE", text[i + 1:end], i))
            i = end + 1
        elif c == "-" and (i + 1 < n and not text[i + 1].isspace()) and (not toks or toks[-1].kind != "TERM"
                                                                           or text[i - 1].isspace()):
            toks.append(_Tok("MINUS", "-", i))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            word = text[i:j]
            if word in OPERATORS:
                toks.append(_Tok(word, word, i))
            elif j < n and text[j] == '"' and word.endswith(":"):
                # field:"quoted value"
                end = text.find('"', j + 1)
                if end < 0:
                    raise QuerySyntaxError(_("This quotation mark is never closed"), j)
                toks.append(_Tok("TERM", word + text[j + 1:end], i))
                j = end + 1
            else:
                toks.append(_Tok("TERM", word, i))
            i = j
    toks.append(_Tok("END", "", n))
    return toks


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.terms = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.peek().kind == "END":
            raise QuerySyntaxError(_("The query is empty"), None)
        node = self.parse_or()
        tok = self.peek()
        if tok.kind == ")":
            raise QuerySyntaxError(_("This closing parenthesis has no opening one"), tok.pos)
        if tok.kind != "END":  # pragma: no cover - parse_and consumes every term
            raise QuerySyntaxError(_("Unexpected %(text)r") % {"text": tok.text}, tok.pos)
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.peek().kind == "OR":
            op = self.take()
            if self.peek().kind in ("END", ")", "OR", "AND"):
                raise QuerySyntaxError(_("OR needs a term on its right"), op.pos)
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Node("or", children=tuple(children), position=children[0].position)

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while True:
            tok = self.peek()
            if tok.kind == "AND":
                self.take()
                if self.peek().kind in ("END", ")", "OR", "AND"):
                    raise QuerySyntaxError(_("AND needs a term on its right"), tok.pos)
                children.append(self.parse_unary())
            elif tok.kind in ("TERM", "PHRASE", "(", "NOT", "MINUS"):
                children.append(self.parse_unary())
            else:
                break
        return children[0] if len(children) == 1 else Node("and", children=tuple(children), position=children[0].position)

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok.kind in ("NOT", "MINUS"):
            self.take()
            if self.peek().kind in ("END", ")", "OR", "AND"):
                raise QuerySyntaxError(_("%(text)s needs a term on its right") % {"text": tok.text}, tok.pos)
            self._enter(tok.pos)
            child = self.parse_unary()
            self.depth -= 1
            return Node("not", children=(child,), position=tok.pos)
        return self.parse_primary()

    def _enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(_("The query nests more than %(max_depth)s levels deep") % {"max_depth": MAX_DEPTH}, pos)

    def parse_primary(self) -> Node:
        tok = self.take()
        if tok.kind == "(":
            self._enter(tok.pos)
            if self.peek().kind == ")":
                raise QuerySyntaxError(_("These parentheses are empty"), tok.pos)
            if self.peek().kind == "END":
                raise QuerySyntaxError(_("This opening parenthesis is never closed"), tok.pos)
            node = self.parse_or()
            close = self.take()
            if close.kind != ")":
                raise QuerySyntaxError(_("This opening parenthesis is never closed"), tok.pos)
            self.depth -= 1
            return node
        if tok.kind == "PHRASE":
            return self._count(self._phrase(tok))
        if tok.kind == "TERM":
            return self._count(self._term(tok))
        if tok.kind == ")":
            raise QuerySyntaxError(_("This closing parenthesis has no opening one"), tok.pos)
        if tok.kind == "END":
            raise QuerySyntaxError(_("The query ends where a term was expected"), tok.pos)
        raise QuerySyntaxError(_("%(text)s cannot start a term here") % {"text": tok.text}, tok.pos)

    def _count(self, node: Node) -> Node:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QuerySyntaxError(_("The query has more than %(max_terms)s terms") % {"max_terms": MAX_TERMS}, node.position)
        return node

    def _phrase(self, tok: _Tok) -> Node:
        words = [w.lstrip("#@") for w in _TOKEN_RE.findall(fold(tok.text))]
        words = [w for w in words if w]
        if not words:
            raise QuerySyntaxError(_("This quoted phrase has no word in it"), tok.pos)
        if len(words) == 1:
            return Node("word", value=words[0], position=tok.pos)
        return Node("phrase", value=" ".join(words), position=tok.pos)

    def _term(self, tok: _Tok) -> Node:
        raw = tok.text
        if ":" in raw and not raw.startswith(("#", "@")) and not raw.startswith(("http:", "https:")):
            name, _sep, value = raw.partition(":")
            name_f = name.lower()
            if name_f not in FIELDS:
                raise QuerySyntaxError(_("Unknown field %(name)r: use one of %(join)s") % {"name": name, "join": ', '.join(f + ':' for f in FIELDS)},
                                       tok.pos)
            value_f = fold(value.strip()).lstrip("@")
            if not value_f:
                raise QuerySyntaxError(_("%(name_f)s: needs a value, e.g. %(name_f2)s:%(field_examples)s") % {"name_f": name_f, "name_f2": name_f, "field_examples": _FIELD_EXAMPLES[name_f]}, tok.pos)
            if not re.fullmatch(r"[\w.\-]+", value_f):
                raise QuerySyntaxError(_("%(name_f)s: takes a single word, not %(value)r") % {"name_f": name_f, "value": value}, tok.pos)
            if name_f == "lang" and not re.fullmatch(r"[a-z]{2}", value_f):
                raise QuerySyntaxError(_("lang: takes a two-letter language code, e.g. lang:fr"), tok.pos)
            if name_f == "country" and not re.fullmatch(r"[a-z]{2}", value_f):
                raise QuerySyntaxError(_("country: takes a two-letter country code, e.g. country:FR"), tok.pos)
            return Node("field", value=value_f, field_name=name_f, position=tok.pos)
        if raw[0] in "#@":
            body = fold(raw[1:])
            if not re.fullmatch(r"\w+", body):
                what = "hashtag" if raw[0] == "#" else "@mention"
                raise QuerySyntaxError(_("A %(what)s is %(raw)s followed by letters, digits or _, not %(raw2)r") % {"what": what, "raw": raw[0], "raw2": raw}, tok.pos)
            return Node("hashtag" if raw[0] == "#" else "mention", value=body, position=tok.pos)
        prefix = raw.endswith("*")
        body = fold(raw[:-1] if prefix else raw)
        if "*" in body:
            raise QuerySyntaxError(_("A * may only end a word (nike*)"), tok.pos + raw.index("*"))
        words = [w for w in _TOKEN_RE.findall(body)]
        if not words:
            raise QuerySyntaxError(_("%(raw)r has no letter or digit in it") % {"raw": raw}, tok.pos)
        if prefix:
            if len(words) != 1:
                raise QuerySyntaxError(_("A * may only end a plain word (nike*)"), tok.pos)
            if len(words[0]) < 3:
                raise QuerySyntaxError(_("A word ending in * needs at least 3 letters before it"), tok.pos)
            return Node("prefix", value=words[0], position=tok.pos)
        if len(words) == 1:
            return Node("word", value=words[0], position=tok.pos)
        return Node("phrase", value=" ".join(words), position=tok.pos)  # e-mail, brand-name: words in order


_FIELD_EXAMPLES = {"lang": "fr", "network": "bluesky", "country": "FR", "author": "handle"}


def parse(text: str) -> Node:
    """Parse ``text`` into a tree; raise :class:`QuerySyntaxError` (with the position) when it is not a query."""
    if not isinstance(text, str):
        raise QuerySyntaxError(_("The query must be text"), None)
    if "\x00" in text:
        raise QuerySyntaxError(_("The query contains a NUL character"), text.index("\x00"))
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(_("The query is longer than %(max_query_length)s characters") % {"max_query_length": MAX_QUERY_LENGTH}, MAX_QUERY_LENGTH)
    return _Parser(text).parse()


def compile_query(text: str) -> Node:
    """Parse and check that the query is usable: selective (see the module docstring) and anchored."""
    node = parse(text)
    if not node.selective():
        stop = [t for t in node.terms() if t in STOP_WORDS]
        if stop:
            raise QuerySyntaxError(
                _("The query would match almost everything: %(stop)r is too common a word (stop word); add a more specific term") % {"stop": stop[0]}, None)
        raise QuerySyntaxError(
            _("The query would match almost everything: every branch needs a word, phrase, #hashtag or @mention "
            "(NOT, lang:, network: and country: only narrow a query down)"), None)
    return node


def check(text: str) -> dict[str, Any]:
    """``{"ok": True, "normalised": ..., "terms": [...]}`` or ``{"ok": False, "error": ..., "position": ...}``."""
    try:
        node = compile_query(text)
    except QuerySyntaxError as exc:
        return {"ok": False, "error": exc.message, "position": exc.position}
    return {"ok": True, "normalised": node.to_text(), "terms": node.terms()}


# --- many queries at once ------------------------------------------------------------------------------------------

@dataclass
class QueryIndex:
    """Compiled queries keyed by their anchors: :meth:`match` evaluates only queries that can match."""

    by_key: dict[str, list[tuple[Any, Node]]] = field(default_factory=dict)
    always: list[tuple[Any, Node]] = field(default_factory=list)

    @classmethod
    def build(cls, items: Iterable[tuple[Any, str]]) -> QueryIndex:
        index = cls()
        for key, text in items:
            try:
                node = compile_query(text)
            except QuerySyntaxError:
                continue  # stored queries were checked on save; a bad one matches nothing rather than stop the rest
            index.add(key, node)
        return index

    def add(self, key: Any, node: Node) -> None:
        anchors = node.anchors()
        if anchors is None:
            self.always.append((key, node))
            return
        for a in anchors:
            self.by_key.setdefault(a, []).append((key, node))

    def match(self, doc: Doc) -> list[Any]:
        seen: set[int] = set()
        out: list[Any] = []
        candidates = list(self.always)
        for k in doc.index_keys():
            bucket = self.by_key.get(k)
            if bucket:
                candidates.extend(bucket)
        for key, node in candidates:
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.matches(doc):
                out.append(key)
        return out
