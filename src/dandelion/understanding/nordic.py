"""A small dedicated discriminator for Danish, Norwegian (Bokmål, Nynorsk) and Swedish.

lingua confuses these four on short posts (SIB-200 dev cut to 40 characters: its high-accuracy models of the four
alone reach 0.871). Where the first stage (``langid``) places a text among them, the four's share is re-split by
this model's probabilities multiplied by lingua's high-accuracy ones (``langid.rescore_nordic``).

Model: logistic regression over hashed character n-grams (1-5, within word boundaries) and words, 2**16 columns
each, trained by :func:`train_nordic` on SIB-200 **train and dev** sentences of the four (never the test split),
each sentence also cut into 3 random short windows (15-90 characters) so that it learns short posts. SIB-200's
sentences are parallel (the same FLORES sentence in each language), so the model learns what differs between the
languages rather than topics. Stored as ``models/nordic.npz`` (float16, ~1 MB).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import mmh3
import numpy as np

from .model import MODELS_DIR

NORDIC_LANGS = ("da", "nb", "nn", "sv")
SIB200_FOLDERS = {"dan_Latn": "da", "nob_Latn": "nb", "nno_Latn": "nn", "swe_Latn": "sv"}
NORDIC_FILE = "nordic.npz"
BITS = 16
NORDIC_C = 10.0  # chosen on SIB-200 dev cut to 20 / 40 / 60 characters (docs/understanding.md)
WINDOWS = 3
SEED = 2212


def _vectorizers():
    from sklearn.feature_extraction.text import HashingVectorizer

    char = HashingVectorizer(analyzer="char_wb", ngram_range=(1, 5), n_features=2**BITS, alternate_sign=False,
                             lowercase=True, norm="l2")
    word = HashingVectorizer(analyzer="word", n_features=2**BITS, alternate_sign=False, lowercase=True,
                             norm="l2", token_pattern=r"(?u)\b\w+\b")
    return char, word


_WORD_RE = re.compile(r"(?u)\b\w+\b")
_SPACES_RE = re.compile(r"\s\s+")


def _bucket(token: str, n: int) -> int:
    """scikit-learn's ``FeatureHasher`` column for a token (signed murmurhash3, seed 0)."""
    h = mmh3.hash(token, 0, signed=True)
    return (2147483647 - (n - 1)) % n if h == -2147483648 else abs(h) % n


def _char_wb(text: str) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams (1-5), short words counted once."""
    out = []
    for w in text.split():
        w = f" {w} "
        for k in range(1, 6):
            if len(w) <= k:
                out.append(w)
                break
            out.extend(w[i : i + k] for i in range(len(w) - k + 1))
    return out


def featurize(texts: Sequence[str]):
    """The model's features: the same matrix as scikit-learn's ``HashingVectorizer`` pair of :func:`_vectorizers`
    (checked by a test), without importing scikit-learn at inference (~75 MB and ~2 s on a busy core)."""
    import scipy.sparse as sp

    n = 2**BITS
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        low = _SPACES_RE.sub(" ", text.lower())
        for offset, tokens in ((0, _char_wb(low)), (n, _WORD_RE.findall(low))):
            counts: dict[int, float] = {}
            for t in tokens:
                c = _bucket(t, n)
                counts[c] = counts.get(c, 0.0) + 1.0
            norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
            for c, v in counts.items():
                rows.append(i)
                cols.append(offset + c)
                vals.append(v / norm)
    return sp.csr_matrix((np.array(vals, dtype=np.float64), (rows, cols)), shape=(len(texts), 2 * n))


def featurize_sklearn(texts: Sequence[str]):
    """The reference (training uses it too)."""
    import scipy.sparse as sp

    char, word = _vectorizers()
    return sp.hstack([char.transform(texts), word.transform(texts)]).tocsr()


class NordicDiscriminator:
    """``proba(texts)``: an (n, 4) array over :data:`NORDIC_LANGS`."""

    def __init__(self, W: np.ndarray, b: np.ndarray):
        self.W = W.astype(np.float32)
        self.b = b.astype(np.float32)

    @classmethod
    def load(cls, directory: Path = MODELS_DIR) -> NordicDiscriminator | None:
        path = Path(directory) / NORDIC_FILE
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            labels = [str(x) for x in z["labels"]]
            if tuple(labels) != NORDIC_LANGS:
                raise ValueError(f"{path}: labels {labels} are not {NORDIC_LANGS}")
            return cls(z["W"], z["b"])

    def save(self, directory: Path = MODELS_DIR) -> None:
        np.savez_compressed(Path(directory) / NORDIC_FILE, W=self.W.astype(np.float16), b=self.b,
                            labels=np.array(NORDIC_LANGS))

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        z = np.asarray(featurize(texts) @ self.W) + self.b
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def short_windows(text: str, rng: np.random.Generator, k: int = WINDOWS) -> list[str]:
    """The sentence itself and ``k`` short posts cut from it (random start word, 15-90 characters)."""
    from .data import cut

    words = text.split()
    out = [text]
    for _ in range(k):
        n = int(rng.integers(15, 90))
        start = int(rng.integers(0, max(1, len(words) - 2)))
        out.append(cut(" ".join(words[start:]), n))
    return [t for t in out if t]


def nordic_corpus(root: Path, splits: Sequence[str]) -> tuple[list[str], list[str]]:
    from . import data as D

    texts, labels = [], []
    for folder, code in SIB200_FOLDERS.items():
        for split in splits:
            for t in D.sib200(root, folder, split):
                texts.append(t)
                labels.append(code)
    return texts, labels


def fit_nordic(texts: Sequence[str], labels: Sequence[str], C: float = NORDIC_C, seed: int = SEED):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    tt, yy = [], []
    for t, y in zip(texts, labels):
        for w in short_windows(t, rng):
            tt.append(w)
            yy.append(y)
    clf = LogisticRegression(C=C, max_iter=200, solver="saga", random_state=seed)
    clf.fit(featurize_sklearn(tt), yy)
    order = [list(clf.classes_).index(c) for c in NORDIC_LANGS]
    return NordicDiscriminator(clf.coef_[order].T.copy(), clf.intercept_[order].copy())


def train_nordic(root: Path | str | None = None, out_dir: Path = MODELS_DIR,
                 log: Callable[[str], None] = print) -> NordicDiscriminator:
    """Fit on SIB-200 train + dev of the four (never test) and save ``models/nordic.npz``."""
    from . import data as D

    root = D.datasets_dir(root)
    t0 = time.time()
    texts, labels = nordic_corpus(root, ("train", "dev"))
    model = fit_nordic(texts, labels)
    model.save(out_dir)
    log(f"nordic discriminator: {len(texts)} SIB-200 train+dev sentences, saved in {time.time() - t0:.1f}s")
    return model
