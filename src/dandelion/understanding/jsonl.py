"""JSON-lines in, JSON-lines out, for ``dandelion understand``. Bad lines are reported and skipped."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from .base import Analyzer

CHUNK = 512


def _parse(lineno: int, line: str) -> tuple[object, str] | str:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"line {lineno}: not valid JSON ({exc.msg})"
    if not isinstance(obj, dict):
        return f"line {lineno}: expected a JSON object with \"id\" and \"text\""
    if "id" not in obj:
        return f"line {lineno}: missing \"id\""
    text = obj.get("text")
    if not isinstance(text, str):
        return f"line {lineno}: \"text\" must be a string"
    return obj["id"], text


def understand_stream(lines: Iterable[str], out: TextIO, err: TextIO, analyzer: Analyzer) -> tuple[int, int]:
    """Process a stream in chunks; returns (written, skipped)."""
    written = skipped = 0
    ids: list[object] = []
    texts: list[str] = []

    def flush():
        nonlocal written
        if not texts:
            return
        for id_, u in zip(ids, analyzer.analyze(texts)):
            out.write(json.dumps({"id": id_, **u.as_dict()}, ensure_ascii=False) + "\n")
            written += 1
        ids.clear()
        texts.clear()

    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parsed = _parse(lineno, line)
        if isinstance(parsed, str):
            err.write(parsed + "\n")
            skipped += 1
            continue
        ids.append(parsed[0])
        texts.append(parsed[1])
        if len(texts) >= CHUNK:
            flush()
    flush()
    out.flush()
    return written, skipped
