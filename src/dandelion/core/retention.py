"""Retention: the operational rows that would otherwise grow without end are deleted once they are old enough.

A crisis brings tens of thousands of mentions an hour; each webhook body is kept as an ``InboundDelivery`` (its raw
body and parsed events, a few kilobytes), each background job leaves a task result, each period of each periodic
job a claim row. Once processed they are only evidence for debugging, so each kind has a policy: which rows may go
(never work still to do: pending or claimed deliveries, queued or running jobs), and after how many days, from a
setting (``0`` keeps them forever).

The hourly periodic job ``core.retention`` (once per period across workers, like every periodic job) deletes per
policy at most ``DANDELION_RETENTION_MAX_ROWS`` rows a run (1,000,000: a sustained 300 webhooks a second is 1.08M
deliveries an hour; PostgreSQL deleted 25,000-43,000 of them a second here, bench/retention_at_size.py), in chunks of
``DANDELION_RETENTION_CHUNK`` rows (1,000: 0.2 s a transaction), each chunk its own short transaction: a backlog (the
first run over a year of deliveries) is worked off over several runs, without one long transaction or lock; a run
that reaches its bound says so (a warning in the log, ``more`` in its result and audit row). Running it
twice, or on two workers at once, deletes nothing twice. Each run that deleted something writes one audit row
(actor "system") with the counts. ``dandelion retention --dry-run`` shows what a run would delete.

Never deleted here: messages, conversations, contacts and the audit log (the organisation's record).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from dandelion.core.actors import SYSTEM

logger = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_CHUNK = 1_000


@dataclass(frozen=True)
class Policy:
    name: str
    label: str  # what the rows are, in plural, for people ("processed webhook deliveries")
    model: str  # "app_label.ModelName", resolved when used (the app may not be installed)
    age_field: str  # the row's date its age counts from (indexed, ideally after the fields of ``where``)
    where: dict  # field lookups every deleted row matches (e.g. a finished state): never work still to do
    setting: str  # days to keep; 0 keeps forever
    default_days: int

    def expired(self, cutoff: dt.datetime) -> Q:
        return Q(**self.where, **{f"{self.age_field}__lt": cutoff})

    def days(self) -> int:
        return int(getattr(settings, self.setting, self.default_days))

    def model_class(self) -> type[Model] | None:
        try:
            return apps.get_model(self.model)
        except LookupError:
            return None

    def queryset(self, now: dt.datetime):
        """The rows past their time, or ``None`` when the policy keeps everything (0 days, model not installed)."""
        days, model = self.days(), self.model_class()
        if days <= 0 or model is None:
            return None
        return model._default_manager.filter(self.expired(now - dt.timedelta(days=days)))


_POLICIES: dict[str, Policy] = {}


def check(policy: Policy) -> Policy:
    if policy.default_days < 1:
        raise ValueError("a retention policy keeps its rows at least a day by default")
    return policy


def register(policy: Policy) -> Policy:
    """Add (or replace, by name) a retention policy outside any app; apps declare theirs on their ``AppConfig``
    (``retention_policies``, collected by ``dandelion.core.plugins``)."""
    _POLICIES[check(policy).name] = policy
    return policy


def policies() -> list[Policy]:
    """The installed apps' policies and those registered by hand (which replace an app's of the same name)."""
    from dandelion.core.plugins import retention_policies

    found = {policy.name: policy for policy in retention_policies()}
    found.update(_POLICIES)
    return [found[name] for name in sorted(found)]


@dataclass
class Outcome:
    policy: Policy
    days: int
    cutoff: dt.datetime | None
    deleted: int = 0  # rows deleted (or, on a dry run, that would be, counting at most max_rows + 1)
    more: bool = False  # rows past their time were left for the next run (the run's bound was reached)

    def describe(self) -> str:
        if self.cutoff is None:
            return f"{self.policy.label}: kept forever ({self.policy.setting}=0)"
        left = ", more left for the next run" if self.more else ""
        return f"{self.policy.label} older than {self.days} days: {self.deleted:,}{left}"


def _delete_chunk(qs, size: int) -> tuple[int, int]:
    """``(found, deleted)``: up to ``size`` rows of ``qs`` deleted. The DELETE states the policy's condition again:
    a row that changed between the SELECT and the DELETE (a failed delivery retried meanwhile) is no longer past
    its time, and the database, re-checking the row it locks, keeps it."""
    with transaction.atomic():
        pks = list(qs.order_by().values_list("pk", flat=True)[:size])  # any order: all go in the end
        if not pks:
            return 0, 0
        _total, per_model = qs.filter(pk__in=pks).delete()
        return len(pks), per_model.get(qs.model._meta.label, 0)


def purge(*, now: dt.datetime | None = None, max_rows: int | None = None, chunk: int | None = None,
          dry_run: bool = False, only: list[str] | None = None) -> list[Outcome]:
    """Delete, per policy, at most ``max_rows`` rows past their time (``chunk`` rows a transaction, in no order).
    With ``dry_run`` nothing is deleted and ``deleted`` counts what would be (up to ``max_rows``)."""
    now = now or timezone.now()
    max_rows = int(getattr(settings, "DANDELION_RETENTION_MAX_ROWS", DEFAULT_MAX_ROWS)) if max_rows is None \
        else max_rows
    chunk = int(getattr(settings, "DANDELION_RETENTION_CHUNK", DEFAULT_CHUNK)) if chunk is None else chunk
    if max_rows < 1 or chunk < 1:
        raise ValueError("max_rows and chunk must be positive")
    outcomes = []
    for policy in policies():
        if only is not None and policy.name not in only:
            continue
        qs = policy.queryset(now)
        if qs is None:
            outcomes.append(Outcome(policy, policy.days(), None))
            continue
        outcome = Outcome(policy, policy.days(), now - dt.timedelta(days=policy.days()))
        if dry_run:
            found = qs.order_by().values("pk")[:max_rows + 1].count()
            outcome.deleted, outcome.more = min(found, max_rows), found > max_rows
        else:
            seen = 0
            while seen < max_rows:  # bounded by the rows found, whatever a concurrent run deleted first
                found, deleted = _delete_chunk(qs, min(chunk, max_rows - seen))
                if not found:
                    break
                seen += found
                outcome.deleted += deleted
            outcome.more = seen >= max_rows and qs.exists()
            if outcome.more:
                logger.warning("retention: deleted %s %s and more are past their time: the next run goes on "
                               "(raise DANDELION_RETENTION_MAX_ROWS if this repeats)", outcome.deleted, policy.label)
            elif outcome.deleted:
                logger.info("retention: deleted %s %s", outcome.deleted, policy.label)
        outcomes.append(outcome)
    purged = [o for o in outcomes if o.deleted]
    if purged and not dry_run:
        from dandelion.core import audit

        audit.record(actor=SYSTEM, action="core.retention.purge",
                     summary="Retention deleted " + "; ".join(o.describe() for o in purged),
                     changes={o.policy.name: {"deleted": o.deleted, "days": o.days, "more": o.more}
                              for o in purged})
    return outcomes
