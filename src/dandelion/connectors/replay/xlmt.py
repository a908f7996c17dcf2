"""Reader for XLM-T multilingual sentiment files (``xlm_t_sentiment/<language>/<split>_text.txt`` + labels).

The files carry no time, author or thread: each line becomes a ``comment`` by an anonymous author whose
``language`` hint is the folder's language, spaced ``interval_s`` apart from a fixed start. Lines are shuffled with
``seed`` (the files list labels 0,1,2,0,1,2... in order, which real traffic never does); the sentiment label
("negative" / "neutral" / "positive") travels in ``raw["label"]``. ``path`` may be a language folder, one
``*_text.txt`` file, or the ``xlm_t_sentiment`` root (every language, interleaved).
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Iterator
from pathlib import Path

from dandelion.connectors.base import InboundAuthor, InboundEvent
from dandelion.connectors.replay.records import ReplayError, ReplayRecord, require_file, with_delays

LANGUAGES: dict[str, str] = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}
LABELS = ("negative", "neutral", "positive")
START = dt.datetime(2024, 1, 8, 9, 0, tzinfo=dt.UTC)


def _text_files(source: Path, split: str) -> list[Path]:
    if source.is_file():
        return [source]
    direct = source / f"{split}_text.txt"
    if direct.exists():
        return [direct]
    files = [source / name / f"{split}_text.txt" for name in sorted(LANGUAGES)]
    files = [f for f in files if f.exists()]
    if not files:
        raise ReplayError(f"{source}: no {split}_text.txt here nor in any language folder")
    return files


def _lines(text_file: Path) -> list[tuple[str, str, str | None]]:
    """``(language, text, label)`` triples of one file (label None when the labels file is absent)."""
    language = LANGUAGES.get(text_file.parent.name)
    texts = text_file.read_text(encoding="utf-8", errors="replace").splitlines()
    labels_file = text_file.with_name(text_file.name.replace("_text.txt", "_labels.txt"))
    labels: list[str | None] = [None] * len(texts)
    if labels_file.exists():
        raw = labels_file.read_text(encoding="utf-8").split()
        labels = [LABELS[int(v)] if v.isdigit() and int(v) < len(LABELS) else None for v in raw]
        labels += [None] * (len(texts) - len(labels))
    return [(language or "", t, lab) for t, lab in zip(texts, labels, strict=False) if t.strip()]


def read_xlmt(
    path: str | os.PathLike[str], *, split: str = "test", seed: int = 0, interval_s: float = 30.0
) -> Iterator[ReplayRecord]:
    """Yield the split's lines as ``comment`` records with language hints (shuffled with ``seed``)."""
    source = require_file(path)
    lines: list[tuple[str, str, str | None, str]] = []
    for text_file in _text_files(source, split):
        tag = f"{text_file.parent.name}-{text_file.stem}"
        lines += [
            (lang, text, label, f"{tag}-{i}") for i, (lang, text, label) in enumerate(_lines(text_file))
        ]
    random.Random(seed).shuffle(lines)
    items = []
    for n, (language, text, label, line_id) in enumerate(lines):
        event = InboundEvent(
            external_id=f"xlmt-{line_id}",
            kind="comment",
            text=text,
            created_at=START + dt.timedelta(seconds=n * interval_s),
            author=InboundAuthor(
                external_id=f"xlmt-author-{line_id}", name="Anonymous", language=language or None
            ),
            raw={"label": label, "language": language, "source": "xlm-t", "line": line_id},
        )
        items.append((event, None))
    return with_delays(items)
