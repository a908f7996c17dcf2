"""The interface the inbox pipeline uses: one :class:`Understanding` per message, produced in batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = ("question", "complaint", "praise", "other")


@dataclass(frozen=True, slots=True)
class Understanding:
    language: str | None  # ISO 639-1 lower-case code, None if undetermined
    language_confidence: float  # 0..1
    sentiment: str  # "negative" | "neutral" | "positive"
    sentiment_score: float  # 0..1 confidence of that label
    intent: str  # "question" | "complaint" | "praise" | "other"
    spam: float  # 0..1
    abuse: float  # 0..1
    needs_reply: bool

    def as_dict(self) -> dict:
        """The JSON shape written by ``dandelion understand`` (without ``id``)."""
        return {
            "language": self.language,
            "language_confidence": round(float(self.language_confidence), 4),
            "sentiment": {"label": self.sentiment, "score": round(float(self.sentiment_score), 4)},
            "intent": self.intent,
            "spam": round(float(self.spam), 4),
            "abuse": round(float(self.abuse), 4),
            "needs_reply": bool(self.needs_reply),
        }


@runtime_checkable
class Analyzer(Protocol):
    def analyze(
        self, texts: Sequence[str], language_hints: Sequence[str | None] | None = None
    ) -> list[Understanding]: ...
