"""Shared text normalisation and one sparse feature matrix for every linear head.

Every head (language, sentiment, intent, spam, abuse) reads the same matrix, so a batch is vectorised once:
hashed word 1-2-grams, hashed character 2-5-grams (inside word boundaries) and a few dense cues (VADER
lexicon scores, punctuation, mentions, links, shouting). Hashing keeps the artifacts free of vocabularies
and makes the transform stateless: only the weights are shipped.
"""

from __future__ import annotations

import html
import itertools
import math
import re
import string
from collections.abc import Sequence

import mmh3
import numpy as np
import scipy.sparse as sp

from .cues import cue_tokens

WORD_BITS = 18
CUES = True  # shared cross-lingual cue tokens (cues.py)
CHAR_BITS = 18
# links, with or without a scheme: spam often spells a bare domain ("visit oldchat.tk", "bit.ly/xyz")
URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|info|biz|tk|ly|me|tv|ru|pl|de|uk|co|us|in|io|gl)\b(?:/\S*)?",
    re.IGNORECASE,
)
MENTION_RE = re.compile(r"@\w+")
REPEAT_RE = re.compile(r"(\S)\1{3,}")
DIGITS_RE = re.compile(r"\d+")
SPACE_RE = re.compile(r"\s+")
HASHTAG_RE = re.compile(r"#(\w+)")
# what language identification should not see: links, handles, the '#' of hashtags, digits, entities
LID_STRIP_RE = re.compile(r"(?:https?://|www\.)\S+|@\w+|#|&\w+;|\d+|_", re.IGNORECASE)
QUESTION_RE = re.compile(r"[?¿؟？]")
EMOJI_RE = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")

DENSE_NAMES = (
    "vader_neg", "vader_neu", "vader_pos", "vader_compound", "question", "exclaim", "mentions",
    "url", "hashtags", "log_len", "caps_ratio", "emoji", "bias",
)


def safe_text(text: object) -> str:
    """``text`` as a string every native extension accepts: a lone surrogate (which crashes ``mmh3``'s hashing
    with a segfault, and which no database stores) becomes U+FFFD, a NUL a space. The inbound validator already
    refuses both (``connectors/validation.py``); this is the understanding side's own guard. ASCII and valid text
    come back unchanged (and uncopied)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if text.isascii():
        return text.replace("\x00", " ") if "\x00" in text else text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text.replace("\x00", " ") if "\x00" in text else text


def normalize(text: str) -> str:
    """Lower-cased, entity-decoded text with links/handles/digits folded and long repeats squeezed."""
    if "&" in text:
        text = html.unescape(text)
    text = URL_RE.sub(" httpurl ", text)
    text = MENTION_RE.sub(" @user ", text)
    text = DIGITS_RE.sub("0", text)
    text = REPEAT_RE.sub(r"\1\1\1", text)
    return SPACE_RE.sub(" ", text).strip().lower()


def lid_text(text: str) -> str:
    """The text language identification should look at."""
    if "&" in text:
        text = html.unescape(text)
    return SPACE_RE.sub(" ", LID_STRIP_RE.sub(" ", text)).strip()


_vader = None
_vader_emoji: frozenset[str] = frozenset()
_PUNCT = string.punctuation


def _vader_analyzer():
    global _vader, _vader_emoji
    if _vader is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _vader = SentimentIntensityAnalyzer()
        # polarity_scores replaces emoji character by character, so only one-character keys ever match
        _vader_emoji = frozenset(k for k in _vader.emojis if len(k) == 1)
    return _vader


def vader_scores(text: str) -> tuple[float, float, float, float]:
    """VADER's (neg, neu, pos, compound), identical to ``polarity_scores`` but without running it on text that
    holds no VADER lexicon word and no emoji it knows (most non-English posts): every valence is then 0, which
    VADER scores as (0, 1, 0, 0), or (0, 0, 0, 0) when there is no token at all."""
    vader = _vader_analyzer()
    if _vader_emoji.isdisjoint(text):
        lexicon = vader.lexicon
        tokens = text.split()
        for w in tokens:
            s = w.strip(_PUNCT)
            if (w if len(s) <= 2 else s).lower() in lexicon:
                break
        else:
            return (0.0, 1.0, 0.0, 0.0) if tokens else (0.0, 0.0, 0.0, 0.0)
    s = vader.polarity_scores(text)
    return s["neg"], s["neu"], s["pos"], s["compound"]


def dense_features(texts: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(texts), len(DENSE_NAMES)), dtype=np.float32)
    isalpha, isupper = str.isalpha, str.isupper
    for i, t in enumerate(texts):
        if "&" in t:
            t = html.unescape(t)
        letters = sum(map(isalpha, t)) or 1
        caps = sum(map(isupper, t))
        out[i] = (
            *vader_scores(URL_RE.sub(" ", t)),
            1.0 if QUESTION_RE.search(t) else 0.0,
            min(t.count("!"), 3) / 3.0,
            min(len(MENTION_RE.findall(t)), 3) / 3.0,
            1.0 if URL_RE.search(t) else 0.0,
            min(len(HASHTAG_RE.findall(t)), 3) / 3.0,
            math.log1p(len(t)) / 6.0,
            caps / letters,
            min(len(EMOJI_RE.findall(t)), 3) / 3.0,
            1.0,
        )
    return out


WORD_TOKEN_RE = re.compile(r"(?u)[#@]?\w+|[^\w\s]")
MULTISPACE_RE = re.compile(r"\s\s+")


def word_ngrams(text: str) -> list[str]:
    """Word 1-2-grams, as scikit-learn's HashingVectorizer(ngram_range=(1, 2), token_pattern=...) makes them."""
    tokens = WORD_TOKEN_RE.findall(text)
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def char_wb_ngrams(text: str, lo: int = 2, hi: int = 5) -> list[str]:
    """Character n-grams inside word boundaries (scikit-learn's ``char_wb`` analyzer, same order and padding)."""
    out: list[str] = []
    append = out.append
    for w in MULTISPACE_RE.sub(" ", text).split():
        w = f" {w} "
        w_len = len(w)
        for n in range(lo, hi + 1):
            offset = 0
            append(w[offset : offset + n])
            while offset + n < w_len:
                offset += 1
                append(w[offset : offset + n])
            if offset == 0:  # a short word counts once
                break
    return out


def hashed_rows(token_lists: Sequence[list[str]], n_features: int) -> sp.csr_matrix:
    """Binary, L2-normalised hashed bag of tokens: the matrix scikit-learn's HashingVectorizer(binary=True,
    norm="l2", alternate_sign=False) gives, with MurmurHash3 (seed 0, signed) from ``mmh3`` instead of importing
    scikit-learn at run time (its import alone took over a second of the model's load)."""
    n_rows = len(token_lists)
    hashes: list[int] = []
    counts = np.zeros(n_rows, dtype=np.int64)
    h32 = mmh3.hash
    for i, tokens in enumerate(token_lists):
        unique = set(tokens)
        counts[i] = len(unique)
        hashes.extend(map(h32, unique))
    h = np.asarray(hashes, dtype=np.int64)
    # abs(h) % n, and where scikit-learn puts abs(-2**31) (undefined for an int32)
    cols = np.where(h == -2147483648, (2147483647 - (n_features - 1)) % n_features, np.abs(h) % n_features)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    m = sp.csr_matrix((np.ones(len(cols)), cols.astype(np.int32), indptr), shape=(n_rows, n_features))
    m.sum_duplicates()  # two tokens hashed to one column (sorted per row, in C)
    per_row = np.diff(m.indptr)
    m.data = np.repeat(1.0 / np.sqrt(np.maximum(per_row, 1)), per_row)
    return m


def rows_from_columns(col_sets: Sequence[set[int]], n_features: int) -> sp.csr_matrix:
    """The binary, L2-normalised matrix whose row i holds a 1/sqrt(k) in each of its k columns ``col_sets[i]``."""
    counts = np.fromiter((len(c) for c in col_sets), dtype=np.int64, count=len(col_sets))
    cols = np.fromiter(itertools.chain.from_iterable(col_sets), dtype=np.int32, count=int(counts.sum()))
    indptr = np.zeros(len(col_sets) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    data = np.repeat(1.0 / np.sqrt(np.maximum(counts, 1)), counts)
    m = sp.csr_matrix((data, cols, indptr), shape=(len(col_sets), n_features))
    m.sort_indices()
    return m


CHAR_CACHE_MAX = 50_000  # ~1.2 KB a word: at most ~60 MB, inside the 500 MB per-worker budget


class Featurizer:
    """Stateless: the same texts always give the same matrix, whatever was trained. (The per-word cache of
    character n-gram columns only saves work: a word's n-grams never depend on its neighbours.)"""

    def __init__(self, word_bits: int = WORD_BITS, char_bits: int = CHAR_BITS):
        self.word_features = 2**word_bits
        self.char_features = 2**char_bits
        self.n_features = self.word_features + self.char_features + len(DENSE_NAMES)
        self._char_cache: dict[str, tuple[int, ...]] = {}

    def _word_char_columns(self, word: str) -> tuple[int, ...]:
        n = self.char_features
        wrap = (2147483647 - (n - 1)) % n  # where scikit-learn puts abs(-2**31)
        h32 = mmh3.hash
        cols = tuple({wrap if h == -2147483648 else abs(h) % n for h in map(h32, char_wb_ngrams(word))})
        if len(self._char_cache) >= CHAR_CACHE_MAX:
            self._char_cache.clear()
        self._char_cache[word] = cols
        return cols

    def char_matrix(self, norm_texts: Sequence[str]) -> sp.csr_matrix:
        """Same matrix as ``hashed_rows([char_wb_ngrams(t) ...])``: char_wb n-grams never cross a space, so each
        text's columns are the union of its words' columns."""
        cache = self._char_cache
        miss = self._word_char_columns
        union = set().union
        col_sets = []
        for t in norm_texts:
            words = t.split()
            try:
                col_sets.append(union(*[cache[w] for w in words]))
            except KeyError:
                col_sets.append(union(*[cache[w] if w in cache else miss(w) for w in words]))
        return rows_from_columns(col_sets, self.char_features)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        texts = [safe_text(t) for t in texts]
        norm = [normalize(t) for t in texts]
        xw = hashed_rows([word_ngrams(t) + cue_tokens(t) if CUES else word_ngrams(t) for t in norm],
                         self.word_features)
        xc = self.char_matrix(norm)
        xd = sp.csr_matrix(dense_features(texts))
        return sp.hstack([xw, xc, xd], format="csr", dtype=np.float32)
