"""Nested leave-one-video-out for the spam head's recipe: ``python bench/spam_nested_lovo.py`` (~35 min, 2 cores).

Outer loop: each YouTube video is held out in turn. Inner loop: leave-one-video-out over the other four videos
scores every candidate (pooled F1); the inner winner is trained on the four videos and scored on the held-out one.
The pooled outer F1 is the reported figure; it is never used to choose. The plain leave-one-video-out F1 of each
candidate is printed too, for the record only. Every candidate uses the same extra negatives (SMS at weight 0.3,
ordinary tweets and customer requests) and YouTube weight 3 as ``training.fit_spam``.

Candidates (fixed before the run): the NB-scaled model alone (the previous head), the same with an extra block of
link/digit/shape tokens, a word-only + char-only NB pair, no class balancing, and an NB-scaled + plain pair, each
pair averaged in logit space.
"""

import json
import os
import re
import sys
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "2")
warnings.filterwarnings("ignore")

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from dandelion.understanding import data as D
from dandelion.understanding.features import DENSE_NAMES, Featurizer, hashed_rows
from dandelion.understanding.metrics import f1_binary
from dandelion.understanding.training import SPAM_SMS_WEIGHT, SPAM_YOUTUBE_WEIGHT, _nb_ratios, spam_ham_texts

N_DENSE = len(DENSE_NAMES)
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|info|biz|tk|ly|me|tv|ru|pl|de|uk|co"
                  r"|us|in|io|gl)\b(?:/\S*)?", re.IGNORECASE)


def shape_tokens(t: str) -> list[str]:
    """Link domain and kind, digit-run lengths, timestamps, length, share of capitalised words, a few marks."""
    toks = []
    for m in _URL.finditer(t):
        u = re.sub(r"^(https?://)?(www\.)?", "", m.group(0).lower())
        dom = u.split("/")[0]
        toks += ["dom=" + dom, "tld=" + dom.rsplit(".", 1)[-1]]
        if "youtube" in dom or "youtu.be" in dom:
            toks.append("yt_link")
            if "watch" in u or "youtu.be" in dom:
                toks.append("yt_video")
            if "channel" in u or "/user" in u:
                toks.append("yt_channel")
            if "&t=" in u or "#t=" in u:
                toks.append("yt_time")
        if "/" in u.rstrip("/"):
            toks.append("url_path")
    toks += [f"dlen={min(len(m.group(0)), 8)}" for m in re.finditer(r"\d+", t)]
    if re.search(r"\d+:\d\d", t):
        toks.append("timestamp")
    toks.append(f"nw={min(int(np.log2(len(t.split()) + 1)), 7)}")
    words = re.findall(r"[A-Za-z]{2,}", t)
    if words:
        toks.append(f"capsw={int(sum(w.isupper() for w in words) / len(words) * 4)}")
    for mark, hit in (("bom", "\ufeff" in t), ("html", "<br" in t or "<a " in t),
                      ("elong", re.search(r"(\S)\1{3,}", t)), ("handle", re.search(r"@\w+", t)),
                      ("phone", re.search(r"\+\d", t)), ("money", any(c in t for c in "$£€"))):
        if hit:
            toks.append(mark)
    return toks or ["none"]


def main(root=None):
    root = D.datasets_dir(root)
    yt = D.youtube(root)
    st, sy = D.sms(root)
    ham = spam_ham_texts(root, D.test_keys(root))
    ot = st + ham
    oy = np.array(list(sy) + [0] * len(ham))
    is_sms = np.array([True] * len(st) + [False] * len(ham))
    yt_t = [t for _, t, _ in yt]
    vids = np.array([v for v, _, _ in yt])
    y = np.array([lab for _, _, lab in yt])
    f = Featurizer()
    X_yt, X_ot = f.transform(yt_t), f.transform(ot)
    S_yt = hashed_rows([shape_tokens(t) for t in yt_t], 2**14).astype(np.float32).tocsr()
    S_ot = hashed_rows([shape_tokens(t) for t in ot], 2**14).astype(np.float32).tocsr()
    n_all, half = X_yt.shape[1], 2**18

    def cols(X, S, which):
        dense = X[:, n_all - N_DENSE:]
        if which == "word":
            return sp.hstack([X[:, :half], dense], format="csr"), half
        if which == "char":
            return sp.hstack([X[:, half:2 * half], dense], format="csr"), half
        if which == "shape":
            return sp.hstack([X, S], format="csr"), n_all - N_DENSE
        return X, n_all - N_DENSE

    # name -> [(weight, columns, C, NB scaling)], class weighting
    cands = {
        "nb": ([(1.0, "all", 10.0, True)], "balanced"),
        "nb+shape": ([(1.0, "shape", 10.0, True)], "balanced"),
        "nb word + nb char": ([(0.5, "word", 10.0, True), (0.5, "char", 10.0, True)], "balanced"),
        "nb, unbalanced": ([(1.0, "all", 10.0, True)], None),
        "nb + plain": ([(0.5, "all", 10.0, True), (0.5, "all", 10.0, False)], "balanced"),
    }

    def predict(name, tr, te):
        parts, cw = cands[name]
        yy = np.concatenate([y[tr], oy])
        w = np.concatenate([np.full(tr.sum(), SPAM_YOUTUBE_WEIGHT), np.where(is_sms, SPAM_SMS_WEIGHT, 1.0)])
        z = 0.0
        for a, which, C, nb in parts:
            A, dense_at = cols(X_yt[tr], S_yt[tr], which)
            B, _ = cols(X_ot, S_ot, which)
            Xtr = sp.vstack([A, B], format="csr")
            Xte, _ = cols(X_yt[te], S_yt[te], which)
            r = None
            if nb:
                r = _nb_ratios(Xtr, yy, 0)
                r[dense_at:dense_at + N_DENSE] = 1.0
                Xtr = sp.csr_matrix(Xtr.multiply(r[None, :]))
            clf = LogisticRegression(C=C, max_iter=400, class_weight=cw, solver="liblinear", dual=True)
            clf.fit(Xtr, yy, sample_weight=w)
            coef = clf.coef_[0] * r if nb else clf.coef_[0]
            z = z + a * (np.asarray(Xte @ coef).ravel() + clf.intercept_[0])
        return z >= 0

    def lovo(name, videos):
        ys, ps = [], []
        for v in videos:
            te = vids == v
            tr = np.isin(vids, [x for x in videos if x != v])
            ps.append(predict(name, tr, te))
            ys.append(y[te])
        return f1_binary(np.concatenate(ys), np.concatenate(ps))

    videos = list(D.YOUTUBE_FILES)
    nested = np.zeros(len(y), dtype=bool)
    plain = {k: np.zeros(len(y), dtype=bool) for k in cands}
    picks = {}
    for v in videos:
        inner = {k: lovo(k, [x for x in videos if x != v]) for k in cands}
        best = max(inner, key=lambda k: inner[k])
        picks[v] = best
        te = vids == v
        for k in cands:
            plain[k][te] = predict(k, ~te, te)
        nested[te] = plain[best][te]
        print(f"held out {v}: inner " + ", ".join(f"{k} {x:.4f}" for k, x in inner.items()) + f" -> {best}",
              flush=True)
    print(json.dumps({"nested_pooled_f1": round(f1_binary(y, nested), 4), "inner_picks": picks,
                      "plain_lovo_not_for_choosing": {k: round(f1_binary(y, p), 4) for k, p in plain.items()}},
                     indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
