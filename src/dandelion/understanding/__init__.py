"""Message understanding: language, sentiment, intent, spam, abuse and needs-reply, on batches, on CPU.

Import-light on purpose: no Django, no model loading here. Use
``dandelion.understanding.analyzer.get_analyzer()`` (lazy, process-wide, thread-safe) or
``dandelion.understanding.analyzer.analyze(texts)``.
"""

from __future__ import annotations

__all__ = ["Analyzer", "Understanding", "analyze", "get_analyzer"]


def __getattr__(name: str):  # lazy re-exports keep ``import dandelion.understanding`` cheap
    if name in ("Understanding", "Analyzer"):
        from . import base

        return getattr(base, name)
    if name in ("analyze", "get_analyzer"):
        from . import analyzer

        return getattr(analyzer, name)
    raise AttributeError(name)
