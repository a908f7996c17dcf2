"""``open_replay``: one entry point over every replay source, by format name."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dandelion.connectors.replay.crisislex import FILE_NAME as CRISISLEX_FILE
from dandelion.connectors.replay.crisislex import read_crisislex
from dandelion.connectors.replay.demo import generate_demo
from dandelion.connectors.replay.records import ReplayError, ReplayRecord, datasets_dir
from dandelion.connectors.replay.twcs import read_twcs
from dandelion.connectors.replay.xlmt import read_xlmt

DEFAULT_PATHS: dict[str, tuple[str, ...]] = {
    "twcs": ("twcs_customer_support", "twcs_combined_10k.csv"),
    "xlmt": ("xlm_t_sentiment",),
    "crisislex": ("crisislex", CRISISLEX_FILE),
}
_READERS: dict[str, Callable[..., Iterator[ReplayRecord]]] = {
    "twcs": read_twcs,
    "xlmt": read_xlmt,
    "crisislex": read_crisislex,
}
FORMATS: tuple[str, ...] = ("twcs", "xlmt", "crisislex", "demo")


def default_path(format: str) -> Path:
    """Where a dataset format is read from when no path is given (under ``datasets_dir()``)."""
    return datasets_dir().joinpath(*DEFAULT_PATHS[format])


def open_replay(
    format: str, path: str | os.PathLike[str] | None = None, **options: Any
) -> Iterator[ReplayRecord]:
    """Records of a replay source.

    ``format`` is one of ``FORMATS``: ``"twcs"``, ``"xlmt"``, ``"crisislex"`` (read ``path``, default: the shared
    datasets folder) or ``"demo"`` (generated, endless; ``path`` must be None). ``options`` go to the reader
    (``seed``, ``accounts`` for demo; ``split``, ``seed`` for xlmt). Raises ``ReplayError`` for an unknown format or a
    missing file, before anything is read.
    """
    if format == "demo":
        if path is not None:
            raise ReplayError("the demo format is generated: it takes no path")
        return generate_demo(**options)
    reader = _READERS.get(format)
    if reader is None:
        raise ReplayError(f"unknown replay format {format!r}; known formats: {', '.join(FORMATS)}")
    return reader(path if path is not None else default_path(format), **options)
