"""The shipped linear heads: one weight matrix over the shared features, stored as compressed float16 npz."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent / "models"
WEIGHTS_FILE = "heads.npz"
META_FILE = "heads.json"


@dataclass
class Heads:
    """``scores = X @ W + b``; columns grouped per head (``slices``) with their labels."""

    W: np.ndarray  # (n_features, n_outputs) float32
    b: np.ndarray  # (n_outputs,) float32
    heads: dict[str, dict] = field(default_factory=dict)  # name -> {"labels", "start", "stop", "kind", ...}
    meta: dict = field(default_factory=dict)

    def scores(self, X) -> np.ndarray:
        return np.asarray(X @ self.W, dtype=np.float32) + self.b

    def save(self, directory: Path = MODELS_DIR) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(directory / WEIGHTS_FILE, W=self.W.astype(np.float16), b=self.b.astype(np.float32))
        (directory / META_FILE).write_text(
            json.dumps({"heads": self.heads, "meta": self.meta}, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path = MODELS_DIR) -> Heads:
        info = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as z:
            W = z["W"].astype(np.float32)
            b = z["b"].astype(np.float32)
        return cls(W=W, b=b, heads=info["heads"], meta=info.get("meta", {}))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))
