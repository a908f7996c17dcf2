"""Database helpers every domain uses: portable "one of these values" reads, chunking, and the transient-error test.

* :func:`in_values` reads the rows whose field is one of many values: on PostgreSQL one query with the values sent
  as one array (``= ANY``, :class:`~dandelion.core.querysets.AnyOf`), elsewhere ``IN`` in chunks of
  :data:`CHUNK` (SQLite's parameter limit).
* :func:`chunked` cuts a sequence into lists of at most ``size`` items.
* :func:`is_transient` tells a database error that running the same transaction again may not meet (a deadlock, a
  serialization failure) from one that will happen again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from django.db import connection
from django.db.models import F

from dandelion.core.querysets import AnyOf

CHUNK = 500
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def chunked(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    """``items`` in lists of at most ``size`` (the last one shorter)."""
    if size < 1:
        raise ValueError("size must be at least 1")
    items = items if isinstance(items, Sequence) else list(items)
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def in_values(qs, field_name: str, values: Iterable) -> list:
    """Rows of ``qs`` whose ``field_name`` is in ``values`` (a list; duplicates and order of ``values`` ignored)."""
    values = sorted(set(values))
    if not values:
        return []
    if connection.vendor == "postgresql":
        return list(qs.filter(AnyOf(F(field_name), values)))
    out = []
    for chunk in chunked(values):
        out.extend(qs.filter(**{f"{field_name}__in": chunk}))
    return out


def is_transient(exc: BaseException) -> bool:
    """A database error that running the same transaction again may not meet (two transactions' locks crossed)."""
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES or getattr(cause, "pgcode", None) in \
        TRANSIENT_SQLSTATES


__all__ = ["CHUNK", "TRANSIENT_SQLSTATES", "AnyOf", "chunked", "in_values", "is_transient"]
