"""Sentiment for African languages: a head trained on AfriSenti (SemEval-2023 Task 12, CC BY 4.0).

One pooled linear head over the shared hashed features (``features.Featurizer``), trained by
:func:`train_afrisenti` on the **train** splits of the 12 AfriSenti languages that ship one (Oromo and Tigrinya ship
none: they get the pooled head as it is, a zero-shot figure), ``C`` chosen on the **dev** splits (mean weighted F1
over the languages), then refitted on train + dev. Never the test split. Stored as ``models/afrisenti.npz``
(float16, 3 columns) and appended to the shipped heads at load time as the ``sentiment_africa`` head, which the
analyzer reads for messages identified as (or declared) one of :data:`AFRICAN_LANGUAGES`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .model import MODELS_DIR

AFRISENTI_FILE = "afrisenti.npz"
# ISO 639-1 codes of the AfriSenti languages with one (Mozambican Portuguese and Maghrebi Arabic keep the general
# head: their messages read as Portuguese / Arabic; Nigerian Pidgin has no two-letter code)
AFRICAN_LANGUAGES = frozenset({"am", "ha", "ig", "rw", "om", "ti", "ts", "tw", "yo", "sw"})
AFRISENTI_C_GRID = (0.5, 2.0)


def load_afrisenti(directory: Path = MODELS_DIR) -> tuple[np.ndarray, np.ndarray] | None:
    path = Path(directory) / AFRISENTI_FILE
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as z:
        return z["W"].astype(np.float32), z["b"].astype(np.float32)


def train_afrisenti(root: Path | str | None = None, out_dir: Path = MODELS_DIR,
                    log: Callable[[str], None] = print) -> dict:
    from . import data as D
    from .features import Featurizer
    from .metrics import weighted_f1
    from .training import _dedup, _fit

    root = D.datasets_dir(root)
    t0 = time.time()
    keys = frozenset(D.text_key(t) for lang in D.AFRISENTI_LANGS for t in D.afrisenti(root, lang, "test")[0])
    tr_t, tr_y, dev = [], [], {}
    for lang in D.AFRISENTI_LANGS:
        t, y = D.afrisenti(root, lang, "train")
        tr_t += t
        tr_y += y
        dev[lang] = D.afrisenti(root, lang, "dev")
    dev_keys = frozenset(D.text_key(t) for v in dev.values() for t in v[0])
    tune_t, tune_y, _ = _dedup(tr_t, tr_y, keys | dev_keys)
    f = Featurizer()
    X = f.transform(tune_t)
    Xd = {lang: f.transform(v[0]) for lang, v in dev.items() if v[0]}
    log(f"afrisenti: {len(tune_t)} train tweets featurised in {time.time() - t0:.1f}s")
    best = None
    for C in AFRISENTI_C_GRID:
        coef, icpt, classes = _fit(X, np.array(tune_y), C)
        assert classes == [0, 1, 2]
        per = {lang: weighted_f1(dev[lang][1], np.argmax(Xd[lang] @ coef.T + icpt, axis=1), 3) for lang in Xd
               if lang not in ("orm", "tir")}
        score = float(np.mean(list(per.values())))
        log(f"  afrisenti C={C}: dev mean weighted-F1 {score:.4f} ({time.time() - t0:.0f}s)")
        if best is None or score > best[0]:
            best = (score, C)
    score, C = best
    all_t = tr_t + [t for lang, v in dev.items() for t in v[0]]
    all_y = tr_y + [y for lang, v in dev.items() for y in v[1]]
    all_t, all_y, _ = _dedup(all_t, all_y, keys)
    coef, icpt, _ = _fit(f.transform(all_t), np.array(all_y), C)
    W = np.ascontiguousarray(coef.T)
    np.savez_compressed(Path(out_dir) / AFRISENTI_FILE, W=W.astype(np.float16), b=icpt.astype(np.float32))
    log(f"afrisenti: C={C} (dev {score:.4f}), {len(all_t)} train+dev tweets, saved in {time.time() - t0:.1f}s")
    return {"C": C, "dev_weighted_f1": round(score, 4), "n": len(all_t)}
