"""Small, dependency-free metrics (macro-F1, macro-recall, F1, accuracy) over integer labels."""

from __future__ import annotations

import numpy as np


def _conf(y, p, k):
    y, p = np.asarray(y), np.asarray(p)
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (y, p), 1)
    return m


def _f1_per_class(m: np.ndarray, k: int) -> np.ndarray:
    tp = np.diag(m).astype(float)
    prec = np.divide(tp, m.sum(0), out=np.zeros(k), where=m.sum(0) > 0)
    rec = np.divide(tp, m.sum(1), out=np.zeros(k), where=m.sum(1) > 0)
    return np.divide(2 * prec * rec, prec + rec, out=np.zeros(k), where=(prec + rec) > 0)


def macro_f1(y, p, k: int) -> float:
    return float(_f1_per_class(_conf(y, p, k), k).mean())


def macro_recall(y, p, k: int) -> float:
    m = _conf(y, p, k)
    rec = np.divide(np.diag(m).astype(float), m.sum(1), out=np.zeros(k), where=m.sum(1) > 0)
    return float(rec.mean())


def f1_binary(y, p) -> float:
    y, p = np.asarray(y).astype(bool), np.asarray(p).astype(bool)
    tp = float(np.sum(y & p))
    fp, fn = float(np.sum(~y & p)), float(np.sum(y & ~p))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def accuracy(y, p) -> float:
    y, p = np.asarray(y), np.asarray(p)
    return float(np.mean(y == p)) if len(y) else 0.0


def recall_binary(y, p) -> float:
    y, p = np.asarray(y).astype(bool), np.asarray(p).astype(bool)
    return float(np.sum(y & p) / max(1, np.sum(y)))


def weighted_f1(y, p, k: int) -> float:
    """F1 per class weighted by the class's support (AfriSenti-SemEval's metric)."""
    m = _conf(y, p, k)
    f1 = _f1_per_class(m, k)
    support = m.sum(1).astype(float)
    return float((f1 * support).sum() / support.sum()) if support.sum() else 0.0
