"""Reproducible training of the shipped heads (``dandelion train`` / ``bench/train_understanding.py``).

Only redistributable sets are used: xlm-t (train/val), tweeteval (train/val), davidson, YouTube and SMS spam,
bitext (our 80% split). Never twcs or papluca. Test texts of every set are removed from the training data
first (:func:`data.test_keys`). Hyper-parameters are chosen on validation splits only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from . import data as D
from .base import INTENTS, SENTIMENTS
from .features import DENSE_NAMES, QUESTION_RE, Featurizer
from .metrics import macro_f1, macro_recall
from .model import MODELS_DIR, Heads

LID_LANGS = ("ar", "de", "en", "es", "fr", "hi", "it", "pt")
EMOTION_TO_SENTIMENT = {0: 0, 1: 2, 2: 2, 3: 0}  # anger->neg, joy->pos, optimism->pos, sadness->neg
SPAM_C = 10.0
# the spam head: a logit-space mixture of logistic regressions, (naive-Bayes scaling, weight) each, one linear map.
# The NB-scaled model alone is shipped. An NB + plain pair ((True, 0.5), (False, 0.5)) won the inner folds of a
# nested leave-one-video-out for 3 of 5 videos (bench/spam_nested_lovo.py, nested F1 0.9506 against 0.9496) but
# raised the share of real customer tweets (twcs) read as spam >= 0.9 from 3.6% to 4.2% and cut needs-reply recall
# 0.941 -> 0.927: a noise-level gain bought with hidden customers, not shipped (docs/understanding.md)
SPAM_PARTS = ((True, 1.0),)
SPAM_YOUTUBE_WEIGHT = 3.0
# SMS spam is another medium: it weighs 0.3 against the ham tweets/requests (chosen by nested leave-one-video-out:
# 1.0 / 0.3 / 0.0, 0.3 picked by the inner folds for every held-out video; docs/understanding.md)
SPAM_SMS_WEIGHT = 0.3
INTENT_C = 2.0
# sentiment (C, naive-Bayes scaling) candidates, chosen on validation splits
SENT_GRID = ((2.0, False), (0.5, True), (2.0, True), (6.0, True), (12.0, True))
# weights of the best NB model in a logit-space mixture with the best plain one (chosen on validation too)
SENT_MIX = (0.3, 0.5, 0.7)


class _Matrix:
    """Featurise every distinct training text once."""

    def __init__(self, featurizer: Featurizer):
        self.f = featurizer
        self.index: dict[str, int] = {}
        self.texts: list[str] = []
        self.X = None

    def add(self, texts):
        for t in texts:
            if t not in self.index:
                self.index[t] = len(self.texts)
                self.texts.append(t)

    def build(self):
        self.X = self.f.transform(self.texts)

    def rows(self, texts) -> sp.csr_matrix:
        return self.X[[self.index[t] for t in texts]]


def _nb_ratios(X, target, n_dense: int, alpha: float = 1.0) -> np.ndarray:
    """Naive-Bayes log-count ratios per feature (Wang & Manning 2012, "NBSVM"): how much more often a feature is
    present in the positive than in the negative rows. The dense cues (not counts) keep a ratio of 1."""
    Xb = X.copy()
    Xb.data = np.ones_like(Xb.data)
    w = target.astype(np.float64)
    p = alpha + np.asarray(Xb.T @ w).ravel()
    q = alpha + np.asarray(Xb.T @ (1.0 - w)).ravel()
    r = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
    if n_dense:
        r[-n_dense:] = 1.0
    return r


def _fit(X, y, C, sample_weight=None, max_iter=400, nb: bool = False):
    """Logistic regression, liblinear dual solver (fast when features far outnumber samples);
    multi-class as one-vs-rest, one binary problem per class. With ``nb`` the sparse features are first scaled by
    their naive-Bayes log-count ratios; the scaling is folded into the returned weights, so the head stays linear
    over the shared features."""
    y = np.asarray(y)
    classes = sorted(set(y.tolist()))
    n_dense = len(DENSE_NAMES) if X.shape[1] == Featurizer().n_features else 0

    def binary(target):
        Xt = X
        if nb:
            r = _nb_ratios(X, target, n_dense)
            Xt = sp.csr_matrix(X.multiply(r[None, :]))
        clf = LogisticRegression(C=C, max_iter=max_iter, class_weight="balanced", solver="liblinear", dual=True)
        clf.fit(Xt, target, sample_weight=sample_weight)
        coef = clf.coef_[0] * r if nb else clf.coef_[0]
        return coef.astype(np.float32), np.float32(clf.intercept_[0])

    if len(classes) == 2:
        c, b = binary((y == classes[1]).astype(int))
        return c[None, :], np.array([b], dtype=np.float32), classes
    rows = [binary((y == k).astype(int)) for k in classes]
    return np.vstack([r[0] for r in rows]), np.array([r[1] for r in rows], dtype=np.float32), classes


def fit_spam(X_youtube, y_youtube, X_other, y_other, is_sms=None):
    """The spam head's recipe, shared by training and the leave-one-video-out evaluation: YouTube comments (the
    target traffic) weigh ``SPAM_YOUTUBE_WEIGHT`` against the ham tweets/requests, SMS (rows flagged ``is_sms``)
    ``SPAM_SMS_WEIGHT``; the logit-space mixture ``SPAM_PARTS`` of an NB-scaled and a plain model."""
    X = sp.vstack([X_youtube, X_other]).tocsr()
    y = np.concatenate([np.asarray(y_youtube), np.asarray(y_other)])
    w_other = np.ones(X_other.shape[0])
    if is_sms is not None:
        w_other[np.asarray(is_sms, dtype=bool)] = SPAM_SMS_WEIGHT
    w = np.concatenate([np.full(X_youtube.shape[0], SPAM_YOUTUBE_WEIGHT), w_other])
    coef = icpt = 0.0
    for nb, weight in SPAM_PARTS:
        c_, i_, _ = _fit(X, y, SPAM_C, sample_weight=w, nb=nb)
        coef, icpt = coef + weight * c_, icpt + weight * i_
    return coef.astype(np.float32), icpt.astype(np.float32)


SPAM_HAM_TWEETS_PER_LANGUAGE = 750
SPAM_HAM_REQUESTS = 3000


def spam_ham_texts(root: Path, keys: frozenset[str] = frozenset()) -> list[str]:
    """Negatives for the spam head from the traffic it will actually see: YouTube and SMS alone teach it that
    any message with an @handle or a link is spam, so ordinary tweets (xlm-t train, 8 languages) and
    customer-service requests (bitext, our train split) are added as ham. Test texts are excluded."""
    rng = np.random.default_rng(11)
    pools = [(D.xlmt(root, name, "train")[0], SPAM_HAM_TWEETS_PER_LANGUAGE) for name in D.XLMT_LANGS]
    pools.append((D.bitext(root, "train")[0], SPAM_HAM_REQUESTS))
    out: list[str] = []
    for pool, n in pools:
        pool = [t for t in pool if D.text_key(t) not in keys]
        out += [pool[i] for i in rng.permutation(len(pool))[:n]]
    return out


def _dedup(texts, labels, keys, weights=None):
    out_t, out_l, out_w, seen = [], [], [], set()
    for i, (t, lab) in enumerate(zip(texts, labels)):
        k = D.text_key(t)
        if not k or k in keys or k in seen:
            continue
        seen.add(k)
        out_t.append(t)
        out_l.append(lab)
        out_w.append(1.0 if weights is None else weights[i])
    return out_t, out_l, out_w


def train_all(root: Path | None = None, out_dir: Path = MODELS_DIR, log: Callable[[str], None] = print) -> Heads:
    root = D.datasets_dir(root)
    t_start = time.time()
    keys = D.test_keys(root)

    # ---------------- data ----------------
    xlmt = {code: {s: D.xlmt(root, name, s) for s in ("train", "val")} for name, code in D.XLMT_LANGS.items()}
    te_sent_val = D.tweeteval(root, "sentiment", "val")
    emo = [D.tweeteval(root, "emotion", s) for s in ("train", "val")]
    yt = D.youtube(root)
    sms = D.sms(root)
    bx_t, _, bx_y = D.bitext(root, "train")

    # sentiment: xlm-t (8 languages) + tweeteval sentiment val + tweeteval emotion mapped to polarity
    half = np.array([D.bitext_split(t) == "test" for t in te_sent_val[0]])  # a stable ~20% hold-out
    sent_tr_t, sent_tr_y = [], []
    sent_va = {}
    for code, sp_ in xlmt.items():
        sent_tr_t += sp_["train"][0]
        sent_tr_y += sp_["train"][1]
        sent_va[code] = sp_["val"]
    for tt, yy in emo:
        sent_tr_t += tt
        sent_tr_y += [EMOTION_TO_SENTIMENT[y] for y in yy]
    te_a = [(t, y) for (t, y), h in zip(zip(*te_sent_val), half) if not h]
    te_b = [(t, y) for (t, y), h in zip(zip(*te_sent_val), half) if h]
    sent_tr_t += [t for t, _ in te_a]
    sent_tr_y += [y for _, y in te_a]
    sent_va["tweeteval"] = ([t for t, _ in te_b], [y for _, y in te_b])
    val_keys = frozenset(D.text_key(t) for v in sent_va.values() for t in v[0])
    sent_tr_t, sent_tr_y, _ = _dedup(sent_tr_t, sent_tr_y, keys)
    # while tuning, no validation text may sit in the training data (xlm-t English and tweeteval share tweets)
    tune_t, tune_y, _ = _dedup(sent_tr_t, sent_tr_y, keys | val_keys)

    # abuse: tweeteval offensive + davidson (hate or offensive -> 1) + GermEval, ToLD-Br, RO-Offense, MLMA fr/ar
    abuse = abuse_corpus(root, keys)
    ab_tr_t, ab_tr_y, ab_tr_w = abuse_training_rows(abuse)
    ab_all_t, ab_all_y, ab_all_w = abuse_training_rows(abuse, with_val=True)

    # spam: all five YouTube videos + SMS, plus real posts that are not spam (tweets, customer requests)
    ham_t = spam_ham_texts(root, keys)
    spam_t, spam_y, _ = _dedup([t for _, t, _ in yt] + sms[0] + ham_t,
                               [y for _, _, y in yt] + sms[1] + [0] * len(ham_t), frozenset())
    yt_keys = frozenset(D.text_key(t) for _, t, _ in yt)
    spam_is_yt = [D.text_key(t) in yt_keys for t in spam_t]
    sms_keys = frozenset(D.text_key(t) for t in sms[0])
    spam_is_sms = [D.text_key(t) in sms_keys for t in spam_t]

    # intent: bitext (question/complaint) + real tweets without '?' for praise / other / complaint
    tw_int_t, tw_int_y = [], []
    for t, y in zip(sent_tr_t, sent_tr_y):
        if not QUESTION_RE.search(t):
            tw_int_t.append(t)
            tw_int_y.append({0: "complaint", 1: "other", 2: "praise"}[y])
    int_t, int_y, int_w = _dedup(
        bx_t + tw_int_t, bx_y + tw_int_y, keys, [3.0] * len(bx_t) + [1.0] * len(tw_int_t)
    )

    # language: xlm-t tweets, 8 languages
    lid_tr_t, lid_tr_y, lid_va_t, lid_va_y = [], [], [], []
    for code, sp_ in xlmt.items():
        lid_tr_t += sp_["train"][0]
        lid_tr_y += [code] * len(sp_["train"][0])
        lid_va_t += sp_["val"][0]
        lid_va_y += [code] * len(sp_["val"][0])
    lid_va_t, lid_va_y, _ = _dedup(lid_va_t, lid_va_y, keys)
    lid_tr_t, lid_tr_y, _ = _dedup(lid_tr_t, lid_tr_y, keys | frozenset(D.text_key(t) for t in lid_va_t))

    M = _Matrix(Featurizer())
    for group in (sent_tr_t, tune_t, ab_all_t, spam_t, int_t, lid_tr_t, lid_va_t,
                  *[v[0] for v in sent_va.values()]):
        M.add(group)
    log(f"featurising {len(M.texts)} distinct training texts")
    M.build()
    log(f"  done in {time.time() - t_start:.1f}s")
    metrics: dict = {"counts": {}}

    # ---------------- sentiment ----------------
    Xs, ys = M.rows(tune_t), np.array(tune_y)
    fits = {}
    for C, nb in SENT_GRID:
        coef, icpt, _ = _fit(Xs, ys, C, nb=nb)
        score, detail = _sent_val_score(M, sent_va, coef, icpt, np.zeros(3))
        log(f"  sentiment C={C} nb={nb}: val {score:.4f} {detail}")
        fits[(C, nb)] = (score, coef, icpt)
    # a mixture of the best NB-scaled and the best plain model, averaged in logit space (so still one linear head)
    best_nb = max((k for k in fits if k[1]), key=lambda k: fits[k][0])
    best_plain = max((k for k in fits if not k[1]), key=lambda k: fits[k][0])
    best = max(((fits[k][0], ((k, 1.0),), fits[k][1], fits[k][2]) for k in fits), key=lambda r: r[0])
    for alpha in SENT_MIX:
        coef = alpha * fits[best_nb][1] + (1 - alpha) * fits[best_plain][1]
        icpt = alpha * fits[best_nb][2] + (1 - alpha) * fits[best_plain][2]
        score, detail = _sent_val_score(M, sent_va, coef, icpt, np.zeros(3))
        log(f"  sentiment {alpha} x NB {best_nb} + {1 - alpha:.1f} x plain {best_plain}: val {score:.4f} {detail}")
        if score > best[0]:
            best = (score, ((best_nb, alpha), (best_plain, 1 - alpha)), coef, icpt)
    _, s_mix, coef, icpt = best
    # per-class bias offsets (neutral, positive) tuned on validation for macro scores
    best_off = (-1, np.zeros(3))
    for dn in np.arange(-0.6, 0.61, 0.15):
        for dp in np.arange(-0.6, 0.61, 0.15):
            off_ = np.array([0.0, dn, dp], dtype=np.float32)
            sc, _ = _sent_val_score(M, sent_va, coef, icpt, off_)
            if sc > best_off[0]:
                best_off = (sc, off_)
    log(f"  sentiment bias offsets {best_off[1].tolist()} -> val {best_off[0]:.4f}")
    va_t = [t for v in sent_va.values() for t in v[0]]
    va_y = [y for v in sent_va.values() for y in v[1]]
    all_t, all_y, _ = _dedup(sent_tr_t + va_t, sent_tr_y + va_y, keys)
    X_all, y_all = M.rows(all_t), np.array(all_y)
    coef = icpt = 0.0
    for (sC, s_nb), alpha in s_mix:
        c_, i_, _ = _fit(X_all, y_all, sC, nb=s_nb)
        coef, icpt = coef + alpha * c_, icpt + alpha * i_
    sent_coef, sent_icpt = coef.astype(np.float32), (icpt + best_off[1]).astype(np.float32)
    metrics["sentiment"] = {"mix": [{"C": c, "nb": nb, "weight": round(float(a), 2)} for (c, nb), a in s_mix],
                            "val_score": round(float(best_off[0]), 4), "bias_offsets": best_off[1].tolist()}
    metrics["counts"]["sentiment"] = len(all_t)

    # ---------------- abuse ----------------
    # fitted on the train parts; a bias offset per language tuned on each language's validation part (the sets'
    # base rates differ: 21 % toxic in ToLD-Br, 64 % in RO-Offense); then refitted on train + validation
    coef, icpt = fit_abuse(M.rows(ab_tr_t), ab_tr_y, ab_tr_w)
    offsets, val_f1 = {}, {}
    for lang, part in abuse.items():
        z = np.asarray(M.rows(part["val"][0]) @ coef.T).ravel() + icpt[0]
        yv = np.array(part["val"][1])
        f1, d = max((macro_f1(yv, (z >= d).astype(int), 2), round(float(d), 2)) for d in ABUSE_OFFSET_GRID)
        offsets[lang], val_f1[lang] = -d, round(float(f1), 4)
        log(f"  abuse {lang}: val macro-F1 {f1:.4f} with offset {-d:+.2f} ({macro_f1(yv, (z >= 0).astype(int), 2):.4f} without)")
    coef, icpt = fit_abuse(M.rows(ab_all_t), ab_all_y, ab_all_w)
    abuse_coef, abuse_icpt = coef, icpt
    metrics["abuse"] = {"C": ABUSE_C, "davidson_weight": ABUSE_DAVIDSON_WEIGHT, "val_macro_f1": val_f1,
                        "language_offsets": offsets}
    metrics["counts"]["abuse"] = len(ab_all_t)

    # ---------------- spam ----------------
    yt_t = [t for t, k in zip(spam_t, spam_is_yt) if k]
    yt_y = [y for y, k in zip(spam_y, spam_is_yt) if k]
    ot_t = [t for t, k in zip(spam_t, spam_is_yt) if not k]
    ot_y = [y for y, k in zip(spam_y, spam_is_yt) if not k]
    ot_sms = [m for m, k in zip(spam_is_sms, spam_is_yt) if not k]
    spam_coef, spam_icpt = fit_spam(M.rows(yt_t), yt_y, M.rows(ot_t), ot_y, ot_sms)
    metrics["spam"] = {"C": SPAM_C, "parts": [{"nb": nb, "weight": a} for nb, a in SPAM_PARTS], "youtube_weight": SPAM_YOUTUBE_WEIGHT, "sms_weight": SPAM_SMS_WEIGHT}
    metrics["counts"]["spam"] = len(spam_t)

    # ---------------- intent ----------------
    coef, icpt, classes = _fit(M.rows(int_t), np.array(int_y), INTENT_C, sample_weight=np.array(int_w))
    order = [classes.index(c) for c in INTENTS]
    int_coef, int_icpt = coef[order], icpt[order]
    metrics["intent"] = {"C": INTENT_C}
    metrics["counts"]["intent"] = len(int_t)

    # ---------------- language (tweets, 8 languages) ----------------
    best = None
    for C in (8.0,):
        coef, icpt, classes = _fit(M.rows(lid_tr_t), np.array(lid_tr_y), C)
        pred = np.array(classes)[np.argmax(M.rows(lid_va_t) @ coef.T + icpt, axis=1)]
        acc = float(np.mean(pred == np.array(lid_va_y)))
        log(f"  language C={C}: val accuracy {acc:.4f}")
        if best is None or acc > best[0]:
            best = (acc, C)
    acc, lC = best
    coef, icpt, classes = _fit(M.rows(lid_tr_t + lid_va_t), np.array(lid_tr_y + lid_va_y), lC)
    order = [classes.index(c) for c in LID_LANGS]
    lid_coef, lid_icpt = coef[order], icpt[order]
    metrics["language"] = {"C": lC, "val_accuracy": round(acc, 4)}
    metrics["counts"]["language"] = len(lid_tr_t) + len(lid_va_t)

    # ---------------- pack ----------------
    blocks = [
        ("sentiment", "softmax", list(SENTIMENTS), sent_coef, sent_icpt),
        ("abuse", "sigmoid", ["abuse"], abuse_coef, abuse_icpt),
        ("spam", "sigmoid", ["spam"], spam_coef, spam_icpt),
        ("intent", "softmax", list(INTENTS), int_coef, int_icpt),
        ("language", "softmax", list(LID_LANGS), lid_coef, lid_icpt),
    ]
    heads, cols, biases, start = {}, [], [], 0
    for name, kind, labels, c, b in blocks:
        heads[name] = {"kind": kind, "labels": labels, "start": start, "stop": start + c.shape[0]}
        start += c.shape[0]
        cols.append(c)
        biases.append(b)
    W = np.ascontiguousarray(np.vstack(cols).T.astype(np.float32))
    b = np.concatenate(biases).astype(np.float32)
    metrics["train_seconds"] = round(time.time() - t_start, 1)
    h = Heads(W=W, b=b, heads=heads, meta={"training": metrics, "features": {"word_bits": 18, "char_bits": 18},
                                           "abuse_language_offsets": offsets})
    h.save(out_dir)
    log(f"saved {out_dir} in {time.time() - t_start:.1f}s")
    train_small(root, out_dir, log)
    return h


SMALL_MODELS = ("nordic", "afrisenti")


def train_small(root: Path | None = None, out_dir: Path = MODELS_DIR, log: Callable[[str], None] = print,
                only: tuple[str, ...] = SMALL_MODELS) -> None:
    """The separate small artifacts (``dandelion train --only nordic,afrisenti`` retrains just these): the
    Scandinavian discriminator and the AfriSenti sentiment head."""
    from .afrisenti import train_afrisenti
    from .nordic import train_nordic

    if "nordic" in only:
        train_nordic(root, out_dir, log)
    if "afrisenti" in only:
        train_afrisenti(root, out_dir, log)


def _sent_val_score(M, sent_va, coef, icpt, offsets):
    f1s, detail = [], {}
    for name, (tt, yy) in sent_va.items():
        pred = np.argmax(M.rows(tt) @ coef.T + icpt + offsets, axis=1)
        if name == "tweeteval":
            detail[name] = round(macro_recall(np.array(yy), pred, 3), 3)
        else:
            detail[name] = round(macro_f1(np.array(yy), pred, 3), 3)
            f1s.append(detail[name])
    # equal weight: mean multilingual macro-F1 and English tweeteval macro-recall
    return 0.5 * float(np.mean(f1s)) + 0.5 * detail["tweeteval"], detail


def _best_threshold(p, y):
    best = (0.5, -1.0)
    for thr in np.arange(0.2, 0.81, 0.02):
        f1 = macro_f1(y, (p >= thr).astype(int), 2)
        if f1 > best[1]:
            best = (round(float(thr), 2), f1)
    return best


# ---------------- multilingual abuse (issue 22) ----------------
ABUSE_C = 4.0
ABUSE_DAVIDSON_WEIGHT = 0.3
# MLMA is almost all hostile: ordinary tweets of the same languages (xlm-t train) are paired with it as the
# non-offensive side, so the head does not learn "French/Arabic = offensive"
ABUSE_NEUTRAL_PER_LANGUAGE = 1500
ABUSE_LANGS = ("en", "de", "pt", "ro", "fr", "ar")
ABUSE_OFFSET_GRID = np.arange(-1.0, 1.01, 0.1)


def abuse_corpus(root: Path, keys: frozenset[str]) -> dict[str, dict]:
    """language -> {"train": (texts, labels, weights), "val": (texts, labels)} for the abuse head. Validation:
    tweeteval offensive val, ToLD-Br validation, and an md5 fifth of GermEval / RO-Offense train (they ship no
    validation split); MLMA (no split) keeps its md5 test fifth out of everything. Test texts are excluded."""
    out: dict[str, dict] = {}

    def split_off(texts, labels, salt):
        tr = [(t, y) for t, y in zip(texts, labels) if D.md5_split(t, salt) == "train"]
        va = [(t, y) for t, y in zip(texts, labels) if D.md5_split(t, salt) != "train"]
        return [t for t, _ in tr], [y for _, y in tr], [t for t, _ in va], [y for _, y in va]

    def put(lang, tr_t, tr_y, tr_w, va_t=(), va_y=()):
        va_t, va_y, _ = _dedup(list(va_t), list(va_y), keys)
        vk = frozenset(D.text_key(t) for t in va_t)
        tr_t, tr_y, tr_w = _dedup(tr_t, tr_y, keys | vk, tr_w)
        out[lang] = {"train": (tr_t, tr_y, tr_w), "val": (va_t, va_y)}

    off_tr = D.tweeteval(root, "offensive", "train")
    off_va = D.tweeteval(root, "offensive", "val")
    dav_t, dav_c = D.davidson(root)
    # MLMA's English part is left out: English has its own balanced sets, and MLMA en is 88 % hostile with no
    # neutral English tweets paired with it
    put("en", off_tr[0] + dav_t, off_tr[1] + [int(c != 2) for c in dav_c],
        [1.0] * len(off_tr[0]) + [ABUSE_DAVIDSON_WEIGHT] * len(dav_t), *off_va)
    gt, gy, gvt, gvy = split_off(*D.germeval(root, "train"), "germeval-val")
    put("de", gt, gy, [1.0] * len(gt), gvt, gvy)
    tt, ty = D.toldbr(root, "train")
    put("pt", tt, ty, [1.0] * len(tt), *D.toldbr(root, "validation"))
    rt, ry, rvt, rvy = split_off(*D.ro_offense(root, "train"), "ro-val")
    put("ro", rt, ry, [1.0] * len(rt), rvt, rvy)
    rng = np.random.default_rng(22)
    for lang, name in (("fr", "french"), ("ar", "arabic")):
        mt, my = D.mlma(root, lang, "train")
        mt_tr, my_tr, mt_va, my_va = split_off(mt, my, f"mlma-{lang}-val")
        neutral = D.xlmt(root, name, "train")[0]
        neutral = [neutral[i] for i in rng.permutation(len(neutral))[:ABUSE_NEUTRAL_PER_LANGUAGE]]
        nt_tr = [t for t in neutral if D.md5_split(t, f"mlma-{lang}-val") == "train"]
        nt_va = [t for t in neutral if D.md5_split(t, f"mlma-{lang}-val") != "train"]
        put(lang, mt_tr + nt_tr, my_tr + [0] * len(nt_tr), [1.0] * (len(mt_tr) + len(nt_tr)),
            mt_va + nt_va, my_va + [0] * len(nt_va))
    return out


def abuse_training_rows(corpus: dict[str, dict], langs=None, with_val: bool = False):
    """(texts, labels, weights) of the languages ``langs`` (default all), validation rows added when asked."""
    tt, yy, ww = [], [], []
    for lang, part in corpus.items():
        if langs is not None and lang not in langs:
            continue
        t, y, w = part["train"]
        tt += t
        yy += y
        ww += w
        if with_val:
            tt += part["val"][0]
            yy += part["val"][1]
            ww += [1.0] * len(part["val"][0])
    return tt, yy, ww


def fit_abuse(X, y, w):
    """The abuse head's recipe (also used by the evaluation's per-language and leave-one-language-out models)."""
    coef, icpt, _ = _fit(X, np.asarray(y), ABUSE_C, sample_weight=np.asarray(w, dtype=np.float64))
    return coef, icpt
