"""SLA clocks: business-hours arithmetic and the first-response / next-response / resolution targets.

The inbox calls :func:`apply_sla`, :func:`record_inbound`, :func:`record_outbound` and :func:`record_resolved`
inside its own transactions; :func:`check_breaches` runs every minute (periodic job ``routing.sla_breaches``).

Business hours come from the team's :class:`BusinessCalendar`, else the nearest calendar of the team's unit or an
ancestor (team-less calendars), else Monday–Friday 09:00–18:00 in the team's effective time zone. Times are
computed with :mod:`zoneinfo` on real elapsed seconds, so opening hours spanning a DST change count what the
clock actually ran. A policy without ``business_hours`` counts wall-clock time (24/7).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dandelion.core.actors import SYSTEM
from dandelion.core.memo import config_memoized
from dandelion.routing.choices import WEEKDAYS, SlaMetric, SlaStatus
from dandelion.routing.exceptions import CalendarError

logger = logging.getLogger(__name__)

DEFAULT_WEEKLY_HOURS = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
MAX_SEARCH_DAYS = 3 * 366
RESPONSE_METRICS = (SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE)


# --- calendars --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CalendarSpec:
    """A business calendar reduced to what the arithmetic needs."""

    timezone: str = "UTC"
    weekly_hours: dict = field(default_factory=lambda: dict(DEFAULT_WEEKLY_HOURS))
    holidays: frozenset = frozenset()
    always_open: bool = False

    @classmethod
    def from_calendar(cls, calendar) -> CalendarSpec:
        return cls(timezone=calendar.timezone, weekly_hours=calendar.weekly_hours or {},
                   holidays=frozenset(calendar.holidays.values_list("date", flat=True)),
                   always_open=calendar.is_24_7)


ALWAYS_OPEN = CalendarSpec(always_open=True)


def _parse_time(value: str) -> dt.timedelta:
    hours, minutes = value.split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(value)
    return dt.timedelta(hours=h, minutes=m)


def validate_weekly_hours(weekly: object) -> list[str]:
    """Errors in a weekly-hours JSON (empty list when valid)."""
    if not isinstance(weekly, dict):
        return ["weekly hours must be an object keyed by mon..sun"]
    errors = []
    for day, intervals in weekly.items():
        if day not in WEEKDAYS:
            errors.append(f"{day!r} is not a weekday (mon..sun)")
            continue
        if not isinstance(intervals, list):
            errors.append(f"{day}: must be a list of [start, end] pairs")
            continue
        parsed = []
        for i, pair in enumerate(intervals):
            try:
                start, end = pair
                if _parse_time(start) >= _parse_time(end):
                    errors.append(f"{day}[{i}]: start must be before end")
                else:
                    parsed.append((_parse_time(start), _parse_time(end)))
            except (TypeError, ValueError, AttributeError):
                errors.append(f"{day}[{i}]: expected [\"HH:MM\", \"HH:MM\"]")
        parsed.sort()
        if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(parsed)):
            errors.append(f"{day}: opening hours overlap")
    return errors


def _spec(calendar) -> CalendarSpec:
    if calendar is None:
        return ALWAYS_OPEN
    if isinstance(calendar, CalendarSpec):
        return calendar
    return CalendarSpec.from_calendar(calendar)


def _open_intervals(spec: CalendarSpec, day: dt.date, tz: ZoneInfo):
    """The day's opening intervals as aware UTC datetimes (empty on holidays)."""
    if day in spec.holidays:
        return []
    out = []
    for start, end in spec.weekly_hours.get(WEEKDAYS[day.weekday()], []) or []:
        midnight = dt.datetime.combine(day, dt.time(0, 0))
        a = (midnight + _parse_time(start)).replace(tzinfo=tz)
        b_naive = midnight + _parse_time(end)
        b = b_naive.replace(tzinfo=tz)
        out.append((a.astimezone(dt.UTC), b.astimezone(dt.UTC)))
    return out


def calendar_for_team(team) -> CalendarSpec:
    """The team's own calendar, else the nearest unit calendar up the tree, else Mon–Fri 9–18 in its time zone
    (looked up once per team within a :func:`~dandelion.core.memo.batch_memo` block, and kept across batches
    while the configuration is unchanged: :func:`~dandelion.core.memo.config_memoized`)."""
    if team is None:
        return ALWAYS_OPEN
    return config_memoized(("sla.calendar", team.pk), lambda: _lookup_calendar(team))


def _lookup_calendar(team) -> CalendarSpec:
    from dandelion.routing.models import BusinessCalendar

    own = BusinessCalendar.objects.filter(team=team).first()
    if own is not None:
        return CalendarSpec.from_calendar(own)
    ids = [int(p) for p in team.unit.path.strip("/").split("/") if p]
    candidates = {c.unit_id: c for c in BusinessCalendar.objects.filter(unit_id__in=ids, team__isnull=True)}
    for unit_id in reversed(ids):
        if unit_id in candidates:
            return CalendarSpec.from_calendar(candidates[unit_id])
    return CalendarSpec(timezone=team.effective_timezone or "UTC")


def add_business_seconds(start: dt.datetime, seconds: float, *, calendar) -> dt.datetime:
    """The instant ``seconds`` of open time after ``start`` (a BusinessCalendar, a CalendarSpec, or None: 24/7)."""
    spec = _spec(calendar)
    if spec.always_open:
        return start + dt.timedelta(seconds=seconds)
    if seconds <= 0:
        return start
    tz = ZoneInfo(spec.timezone)
    remaining = dt.timedelta(seconds=seconds)
    day = start.astimezone(tz).date() - dt.timedelta(days=1)  # an interval of the previous day may run past midnight
    for _ in range(MAX_SEARCH_DAYS):
        for open_at, close_at in _open_intervals(spec, day, tz):
            a = max(open_at, start)
            if close_at <= a:
                continue
            available = close_at - a
            if remaining <= available:
                return a + remaining
            remaining -= available
        day += dt.timedelta(days=1)
    raise CalendarError("The business calendar has no opening hours in the next three years.")


def business_seconds_between(start: dt.datetime, end: dt.datetime, *, calendar) -> float:
    """Open seconds between ``start`` and ``end`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0.0
    spec = _spec(calendar)
    if spec.always_open:
        return (end - start).total_seconds()
    tz = ZoneInfo(spec.timezone)
    day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date()
    total = 0.0
    while day <= last:
        for open_at, close_at in _open_intervals(spec, day, tz):
            a, b = max(open_at, start), min(close_at, end)
            if b > a:
                total += (b - a).total_seconds()
        day += dt.timedelta(days=1)
    return total


# --- policies and clocks ----------------------------------------------------------------------------------------
def policy_for(conversation):
    """The active SlaPolicy of the conversation's team for its priority, else the team's any-priority policy."""
    from dandelion.routing.models import SlaPolicy

    if conversation.team_id is None:
        return None
    team_id = conversation.team_id
    policies = config_memoized(("sla.policies", team_id), lambda: {
        p.priority: p for p in SlaPolicy.objects.filter(team_id=team_id, is_active=True)})
    return policies.get(conversation.priority) or policies.get("")


def _due(policy, metric: str, started_at: dt.datetime, calendar: CalendarSpec | None):
    seconds = policy.seconds_for(metric)
    if not seconds:
        return None
    return add_business_seconds(started_at, seconds, calendar=calendar if policy.business_hours else None)


def _calendar(policy, conversation):
    if policy is None or not policy.business_hours or conversation.team_id is None:
        return None
    # keyed by the id, so a memoised calendar costs no lazy load of conversation.team
    return config_memoized(("sla.calendar", conversation.team_id), lambda: _lookup_calendar(conversation.team))


def _new_clock(conversation, policy, metric: str, started_at: dt.datetime, calendar):
    """An unsaved clock for ``metric`` (None when the policy sets no target for it)."""
    from dandelion.routing.models import AppliedSla

    due = _due(policy, metric, started_at, calendar)
    if due is None:
        return None
    return AppliedSla(conversation=conversation, policy=policy, metric=metric, started_at=started_at, due_at=due)


def _open() -> Q:
    """Clocks still running: active ones, and breached ones (missed) that no answer or resolution has completed
    yet: the customer is still waiting past that target."""
    return Q(status=SlaStatus.ACTIVE) | Q(status=SlaStatus.MISSED, completed_at__isnull=True)


def _refresh_due(conversation) -> None:
    """``sla_due_at``: the earliest due time of the open clocks (a breached, unanswered target stays the due time,
    so the queue shows the breach and keeps the conversation on top)."""
    from dandelion.inbox.services import set_sla_due
    from dandelion.routing.models import AppliedSla

    due = (AppliedSla.objects.filter(_open(), conversation=conversation)
           .order_by("due_at").values_list("due_at", flat=True).first())
    set_sla_due(conversation, due)


class ClockBook:
    """The SLA clocks of one conversation, worked on in memory.

    ``open`` holds its running clocks (active ones, and breached ones still waiting for their answer, see
    :func:`_open`); two facts stand for the completed ones: whether a first-response target was completed (hit or
    missed) and whether a resolution target was. The operations (:meth:`apply`, :meth:`record_inbound`,
    :meth:`record_outbound`, :meth:`record_resolved`) change clocks in place, start new ones and never touch the
    database, so the inbound pipeline runs them for a whole batch and writes once (:func:`write_books`); the
    single-conversation functions below load a book under lock, run one operation and save it.

    A new conversation's book is empty (``ClockBook(conversation)``): it has no clocks yet, nothing to load."""

    def __init__(self, conversation, rows=(), *, first_response_completed: bool = False,
                 resolution_completed: bool = False) -> None:
        self.conversation = conversation
        self.open = list(rows)
        self.first_response_completed = first_response_completed
        self.resolution_completed = resolution_completed
        self.new: list = []  # unsaved clocks started here (some may be completed here too)
        self.changed: dict[int, object] = {}  # loaded clocks changed here, by id

    # --- facts ---------------------------------------------------------------------------------------------
    def has_first_response(self) -> bool:
        """The first-response target is over (answered, or stopped by a resolution). A breached one still waiting
        for its answer is not: it is still running."""
        return self.conversation.first_response_at is not None or self.first_response_completed

    def resolved_before(self) -> bool:
        """A resolution target was hit or missed (a missed one may still be running)."""
        return self.resolution_completed or any(
            r.metric == SlaMetric.RESOLUTION and r.status == SlaStatus.MISSED for r in self.open)

    def due(self):
        """The earliest due time of the running clocks (``Conversation.sla_due_at``), None without any."""
        return min((r.due_at for r in self.open), default=None)

    # --- changes -------------------------------------------------------------------------------------------
    def _touch(self, row) -> None:
        if row.pk is not None:
            self.changed[row.pk] = row

    def _close(self, row, at: dt.datetime, status: str | None = None) -> None:
        """Complete ``row`` at ``at``: an active target is hit or missed by then (or gets ``status``)."""
        if status is not None:
            row.status = status
        elif row.status == SlaStatus.ACTIVE:
            row.status = SlaStatus.HIT if at <= row.due_at else SlaStatus.MISSED
            if row.status == SlaStatus.MISSED and row.breached_at is None:
                row.breached_at = row.due_at
        row.completed_at = at
        self.open.remove(row)
        if row.status in (SlaStatus.HIT, SlaStatus.MISSED):
            if row.metric == SlaMetric.FIRST_RESPONSE:
                self.first_response_completed = True
            elif row.metric == SlaMetric.RESOLUTION:
                self.resolution_completed = True
        self._touch(row)

    def _start(self, policy, metric: str, started_at: dt.datetime, calendar) -> None:
        clock = _new_clock(self.conversation, policy, metric, started_at, calendar)
        if clock is not None:
            self.open.append(clock)
            self.new.append(clock)

    # --- operations ------------------------------------------------------------------------------------------
    def apply(self, at: dt.datetime) -> None:
        """(Re)start the clocks for the policy of the conversation's team + priority (after routing, a handover or
        a priority change). Running clocks keep their start time (the customer has been waiting since then) and
        get the new policy's due time; a conversation whose team has no policy gets no new clocks.

        A target already breached and not yet answered stays as it is: it was missed (and escalated) once, and no
        second clock is started for its metric, which would be overdue at once and counted as another breach."""
        conversation = self.conversation
        active = {r.metric: r for r in self.open if r.status == SlaStatus.ACTIVE}
        breached = {r.metric for r in self.open if r.status == SlaStatus.MISSED}
        for row in active.values():
            self._close(row, at, status=SlaStatus.CANCELLED)
        policy = policy_for(conversation)
        if policy is None or conversation.status in ("resolved", "hidden"):
            return
        calendar = _calendar(policy, conversation)
        waiting = conversation.waiting_since or conversation.first_inbound_at or at
        starts: dict[str, dt.datetime] = {}
        if not self.has_first_response():
            if SlaMetric.FIRST_RESPONSE not in breached:
                row = active.get(SlaMetric.FIRST_RESPONSE)
                starts[SlaMetric.FIRST_RESPONSE] = row.started_at if row else waiting
        elif SlaMetric.NEXT_RESPONSE not in breached and (
                SlaMetric.NEXT_RESPONSE in active or (conversation.needs_reply and conversation.waiting_since)):
            row = active.get(SlaMetric.NEXT_RESPONSE)
            starts[SlaMetric.NEXT_RESPONSE] = row.started_at if row else waiting
        if SlaMetric.RESOLUTION in active:
            starts[SlaMetric.RESOLUTION] = active[SlaMetric.RESOLUTION].started_at
        elif not self.resolved_before() and SlaMetric.RESOLUTION not in breached:
            starts[SlaMetric.RESOLUTION] = conversation.first_inbound_at or waiting
        for metric, started_at in starts.items():
            self._start(policy, metric, started_at, calendar)

    def record_inbound(self, at: dt.datetime) -> None:
        """A new customer message: starts a next-response clock when a first response already exists (a
        first-response clock otherwise), and a resolution clock when none runs. A running clock, breached or not,
        is kept."""
        policy = policy_for(self.conversation)
        if policy is None:
            return
        running = {r.metric for r in self.open}
        calendar = _calendar(policy, self.conversation)
        if self.has_first_response():
            if SlaMetric.NEXT_RESPONSE not in running:
                self._start(policy, SlaMetric.NEXT_RESPONSE, at, calendar)
        elif SlaMetric.FIRST_RESPONSE not in running:
            self._start(policy, SlaMetric.FIRST_RESPONSE, at, calendar)
        if SlaMetric.RESOLUTION not in running:
            self._start(policy, SlaMetric.RESOLUTION, at, calendar)

    def record_outbound(self, at: dt.datetime) -> None:
        """An agent replied: the running first-response / next-response targets are hit (or missed if late)."""
        for row in [r for r in self.open if r.metric in RESPONSE_METRICS]:
            self._close(row, at)

    def record_resolved(self, at: dt.datetime) -> None:
        """The conversation is resolved: the resolution target is hit or missed, every other clock stops."""
        for row in list(self.open):
            if row.metric == SlaMetric.RESOLUTION:
                self._close(row, at)
            else:
                self._close(row, at, status=SlaStatus.CANCELLED if row.status == SlaStatus.ACTIVE else None)

    def stop(self, at: dt.datetime) -> None:
        """The conversation is hidden (spam, abuse): every running clock stops, neither hit nor missed (a breached
        one stays missed); nobody owes it an answer."""
        for row in list(self.open):
            self._close(row, at, status=SlaStatus.CANCELLED if row.status == SlaStatus.ACTIVE else None)

    # --- writing ----------------------------------------------------------------------------------------------
    def save(self) -> None:
        """Write this book alone (the conversation exists): changed clocks, new clocks, ``sla_due_at``."""
        from dandelion.inbox.services import set_sla_due

        write_books([self])
        set_sla_due(self.conversation, self.due())


def load_books(conversations) -> dict[int, ClockBook]:
    """``{conversation id: ClockBook}`` of saved conversations, their running clocks locked (two queries for any
    number of conversations)."""
    from dandelion.routing.models import AppliedSla

    by_pk = {c.pk: c for c in conversations}
    rows: dict[int, list] = {pk: [] for pk in by_pk}
    done: set[tuple[int, str]] = set()
    ids = sorted(by_pk)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for row in AppliedSla.objects.select_for_update().filter(_open(), conversation_id__in=chunk).order_by("pk"):
            row.conversation = by_pk[row.conversation_id]
            rows[row.conversation_id].append(row)
        done.update(AppliedSla.objects.filter(
            conversation_id__in=chunk, metric__in=[SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION],
            status__in=[SlaStatus.HIT, SlaStatus.MISSED], completed_at__isnull=False,
        ).values_list("conversation_id", "metric").distinct())
    return {pk: ClockBook(by_pk[pk], rows[pk],
                          first_response_completed=(pk, SlaMetric.FIRST_RESPONSE) in done,
                          resolution_completed=(pk, SlaMetric.RESOLUTION) in done) for pk in ids}


def write_books(books) -> None:
    """Write the clocks of many books: changed ones first (a cancelled clock leaves the one-active-per-metric
    constraint before its successor arrives), then every new clock in one INSERT. The conversations must be saved;
    their ``sla_due_at`` (``book.due()``) is the caller's to write."""
    from dandelion.core.bulk import insert_rows, update_rows
    from dandelion.routing.models import AppliedSla

    changed = [row for book in books for row in book.changed.values()]
    if changed:
        update_rows(AppliedSla, changed, ["status", "completed_at", "breached_at"])
    new = [row for book in books for row in book.new]
    if new:
        for row in new:
            row.conversation_id = row.conversation.pk
        insert_rows(AppliedSla, new)
    for book in books:
        book.changed, book.new = {}, []


def _book(conversation, *, fresh: bool = False) -> ClockBook:
    return ClockBook(conversation) if fresh else load_books([conversation])[conversation.pk]


@transaction.atomic
def _run(conversation, operation: str, at: dt.datetime, *, fresh: bool = False) -> None:
    """One :class:`ClockBook` operation on one saved conversation: load its clocks under lock, run, save."""
    book = ClockBook(conversation) if fresh else load_books([conversation])[conversation.pk]
    getattr(book, operation)(at)
    book.save()


def apply_sla(conversation, *, at: dt.datetime, fresh: bool = False) -> None:
    """(Re)start the clocks for the policy of ``conversation.team`` + priority (see :meth:`ClockBook.apply`).
    ``fresh``: the conversation was created in this transaction and has no clocks yet: nothing is loaded."""
    _run(conversation, "apply", at, fresh=fresh)


def record_inbound(conversation, *, at: dt.datetime) -> None:
    """A new customer message (see :meth:`ClockBook.record_inbound`)."""
    _run(conversation, "record_inbound", at)


def record_outbound(conversation, *, at: dt.datetime) -> None:
    """An agent replied: the running first-response / next-response targets are hit (or missed if late)."""
    _run(conversation, "record_outbound", at)


def record_resolved(conversation, *, at: dt.datetime) -> None:
    """The conversation is resolved: the resolution target is hit or missed, every other clock stops."""
    _run(conversation, "record_resolved", at)


def check_breaches(*, now: dt.datetime | None = None) -> int:
    """Mark every overdue active target missed, run its policy's escalation, and return how many were marked.

    Idempotent and safe to run concurrently: each row is claimed by a conditional UPDATE (active → missed)."""
    from dandelion.routing.models import AppliedSla

    now = now or timezone.now()
    count = 0
    overdue = list(AppliedSla.objects.filter(status=SlaStatus.ACTIVE, due_at__lt=now)
                   .values_list("pk", flat=True)[:1000])
    for pk in overdue:
        try:
            with transaction.atomic():
                claimed = AppliedSla.objects.filter(pk=pk, status=SlaStatus.ACTIVE).update(
                    status=SlaStatus.MISSED, breached_at=now)
                if not claimed:
                    continue
                row = AppliedSla.objects.select_related("policy", "conversation__team",
                                                        "conversation__account__owner_unit").get(pk=pk)
                escalate_breach(row, now=now)
                count += 1
        except Exception:
            logger.exception("SLA breach handling failed for AppliedSla %s", pk)
    return count


def escalate_breach(applied, *, now: dt.datetime) -> None:
    """Run the policy's escalation for one missed target: priority, team notification, reassignment; record a
    ``sla_breached`` conversation event and an audit row."""
    from dandelion.core.audit import record
    from dandelion.core.events import emit
    from dandelion.inbox.events import conversation_event
    from dandelion.inbox.services import escalate_conversation
    from dandelion.orgs.models import Team

    conversation = applied.conversation
    escalation = (applied.policy.escalation if applied.policy else None) or {}
    target_id = escalation.get("reassign_to_team")
    target = Team.objects.filter(pk=target_id, is_active=True).first() if target_id else None
    notify_id = escalation.get("notify_team")
    data = {"metric": applied.metric, "due_at": applied.due_at.isoformat(), "policy": applied.policy_id,
            "applied_sla": applied.pk, "escalation": escalation}
    if notify_id:
        data["notify_team"] = notify_id
    changes = escalate_conversation(conversation, actor=SYSTEM, priority=escalation.get("set_priority"),
                                    team=target, data=data)
    record(actor=SYSTEM, action="routing.sla.breach", obj=conversation,
           summary=f"{applied.get_metric_display()} target missed (due {applied.due_at:%Y-%m-%d %H:%M} UTC)",
           changes={"sla_status": [SlaStatus.ACTIVE, SlaStatus.MISSED], **changes})
    emit(conversation_event("conversation.sla_breached", conversation, metric=applied.metric,
                            due_at=applied.due_at.isoformat(), policy_id=applied.policy_id,
                            notify_team_id=notify_id or None))
    if target is not None and "team" in changes:
        transaction.on_commit(lambda: _assign_later(conversation.pk))
    _refresh_due(conversation)


def _assign_later(conversation_id: int) -> None:
    from dandelion.inbox.models import Conversation
    from dandelion.routing.assignment import auto_assign

    conversation = Conversation.objects.filter(pk=conversation_id).select_related("team").first()
    if conversation is not None and conversation.assignee_id is None:
        auto_assign(conversation)
