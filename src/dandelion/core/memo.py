"""Batch-scoped memoisation, and a configuration cache kept across batches.

Within ``with batch_memo():`` a lookup keyed by ``memoized(key, compute)`` runs once; outside it every call computes
afresh. The inbound pipeline wraps one batch in it, so per-conversation lookups of what cannot change during the
batch are one query per team, not one per conversation. Nothing is kept past the block.

:func:`config_memoized` is for lookups that read configuration only (routing rules, SLA policies, business
calendars, teams, memberships, org units): inside a batch it also keeps the value across batches of this process,
so a steady stream of small batches does not read every team's configuration again each time. A value is reused
while the *configuration generation* is the one the batch read (one query per batch), and for at most
``DANDELION_CONFIG_CACHE_SECONDS`` (60 s). The generation is a random token that :func:`config_changed` replaces in
the transaction of every configuration change: saving or deleting a watched model does it (:func:`watch_config`);
a change that bypasses ``save``/``delete`` (``QuerySet.update``, ``bulk_create``, raw SQL) must call it itself. The
time limit only bounds the damage of a change that did not. A change made inside a batch (the hub's triage team
created on the fly) stops that batch from keeping anything: it may be rolled back."""

from __future__ import annotations

import contextvars
import time
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar, cast

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
    """Empty the open memo and the configuration cache (after a failed batch: what it read inside a rolled-back
    transaction may be gone)."""
    memo = _MEMO.get()
    if memo is not None:
        memo.clear()
    _CONFIG.clear()


# --- configuration kept across batches ------------------------------------------------------------------------------

CONFIG_CACHE_SECONDS = 60.0
CONFIG_MAX_ENTRIES = 10_000
_CONFIG: dict[Hashable, tuple[str, float, object]] = {}  # key -> (generation, monotonic time computed, value)
_GENERATION = ("core.config_generation",)  # batch-memo key: the generation this batch reads (None: keep nothing)


def config_cache_seconds() -> float:
    from django.conf import settings

    return float(getattr(settings, "DANDELION_CONFIG_CACHE_SECONDS", CONFIG_CACHE_SECONDS))


def current_generation() -> str | None:
    """The configuration generation now (None when its row is missing, e.g. after a test flushed the tables:
    nothing is then kept across batches)."""
    from dandelion.core.models import ConfigGeneration

    return ConfigGeneration.objects.filter(pk=ConfigGeneration.SINGLETON).values_list("token", flat=True).first()


def config_memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """:func:`memoized` for a lookup that reads configuration only; inside a batch its value is also kept across
    batches while the configuration generation stays the same (see the module's documentation). Callers must not
    change the value they get: it is shared."""
    memo = _MEMO.get()
    if memo is None:
        return compute()
    if key in memo:
        return memo[key]
    if _GENERATION not in memo:
        memo[_GENERATION] = current_generation()
    generation = memo[_GENERATION]
    now = time.monotonic()
    kept = _CONFIG.get(key)
    value: T
    if generation is not None and kept is not None and kept[0] == generation and \
            now - kept[1] < config_cache_seconds():
        value = cast(T, kept[2])  # stored under this key by this function: a T
    else:
        value = compute()
        if generation is not None and memo.get(_GENERATION) == generation:  # no change inside this batch meanwhile
            if len(_CONFIG) >= CONFIG_MAX_ENTRIES:
                _CONFIG.clear()
            _CONFIG[key] = (generation, now, value)
    memo[key] = value
    return value


def config_changed() -> None:
    """Start a new configuration generation (in the caller's transaction: it takes effect for other processes when
    that commits, and is undone with it). Every process then reads its configuration afresh."""
    from django.utils import timezone

    from dandelion.core.models import ConfigGeneration

    token, now = uuid.uuid4().hex, timezone.now()
    if not ConfigGeneration.objects.filter(pk=ConfigGeneration.SINGLETON).update(token=token, changed_at=now):
        ConfigGeneration.objects.bulk_create([ConfigGeneration(pk=ConfigGeneration.SINGLETON, token=token,
                                                               changed_at=now)], ignore_conflicts=True)
    memo = _MEMO.get()
    if memo is not None:
        memo[_GENERATION] = None  # changed inside this batch: keep nothing it reads from now on


def _on_config_write(sender, instance=None, update_fields=None, **kwargs) -> None:
    ignored: frozenset[str] = getattr(sender, "_config_ignored_fields", frozenset())
    if update_fields and ignored and set(update_fields) <= ignored:
        return  # e.g. a user's last login
    config_changed()


def watch_config(*models, ignore_fields: tuple[str, ...] = ()) -> None:
    """Start a new configuration generation whenever an instance of ``models`` is saved or deleted (a save whose
    ``update_fields`` are all in ``ignore_fields`` excepted). Call from an app's ``ready()``."""
    from django.db.models.signals import post_delete, post_save

    for model in models:
        if ignore_fields:
            model._config_ignored_fields = frozenset(ignore_fields)
        post_save.connect(_on_config_write, sender=model, dispatch_uid=f"config:save:{model._meta.label}")
        post_delete.connect(_on_config_write, sender=model, dispatch_uid=f"config:delete:{model._meta.label}")
