"""Batch-scoped memoisation: within ``with batch_memo():`` a lookup keyed by ``memoized(key, compute)`` runs once;
outside it every call computes afresh. The inbound pipeline wraps one batch in it, so per-conversation lookups of
what cannot change during the batch (a team's SLA policies, its business calendar) are one query per team, not one
per conversation. Nothing is kept past the block: an admin's edit is seen by the next batch."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_MEMO: contextvars.ContextVar[dict | None] = contextvars.ContextVar("dandelion_batch_memo", default=None)


@contextmanager
def batch_memo() -> Iterator[None]:
    """Open a memo for the duration of the block (nested blocks share the outer one)."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    memo = _MEMO.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget() -> None:
    """Empty the open memo (after a failed batch: what it read inside a rolled-back transaction may be gone)."""
    memo = _MEMO.get()
    if memo is not None:
        memo.clear()
