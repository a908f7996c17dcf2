"""The understanding side's own guard: text that would crash the native hashing never reaches it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dandelion.understanding.features import Featurizer, safe_text

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain ascii", "plain ascii"),
        ("été 😀", "été 😀"),
        ("\ud800", "\ufffd"),
        ("a\udfffb\ud800", "a\ufffdb\ufffd"),
        ("\ud83d\ude00", "😀"),  # a pair split in two code points is joined again
        ("nul\x00", "nul "),
        ("é\x00\udc00", "é \ufffd"),
        (None, ""),
        (12, "12"),
    ],
)
def test_safe_text(text, expected):
    assert safe_text(text) == expected


def test_valid_text_is_returned_as_is():
    text = "Bonjour, où est ma commande ?"
    assert safe_text(text) is text


SCRIPT = r"""
from dandelion.understanding.features import Featurizer
m = Featurizer(10, 10).transform(["\ud800 bonjour \udfff", "nul\x00", "a\udc80b", "ok"])
print("ROWS", m.shape[0])
"""


def test_the_featurizer_survives_lone_surrogates_in_a_separate_process():
    """In a subprocess: a regression would be a segfault (mmh3 on a lone surrogate), not a failed assertion."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO_ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "ROWS 4" in done.stdout


def test_same_matrix_for_the_replaced_text():
    f = Featurizer(10, 10)
    assert (f.transform(["a\ud800b"]) != f.transform(["a\ufffdb"])).nnz == 0
