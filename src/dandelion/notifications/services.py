"""Notifications: who is told about which event (the ``notifications`` event subscriber), and marking them read.

Who is told:

* ``conversation.assigned``: the new assignee (not when they assigned it to themselves);
* ``conversation.resolved``: the assignee, when someone else resolved it;
* ``conversation.sla_breached``: the assignee and every active member of the conversation's team (and of the team
  the SLA policy names to notify);
* ``account.changed``: the account's owner and the spoke admins of its unit (not the person who changed it);
* ``conversation.reply_held``: the approvers of the held reply (``data.pending.notify_user_ids``, listed by the
  inbox: the roles its unit's reply approval policy names);
* ``conversation.reply_approved`` / ``conversation.reply_returned``: the reply's author;
* ``crisis.incident_opened`` / ``crisis.incident_escalated``: the people the crisis app lists in the event
  (``data.incident.notify_user_ids``: the incident's owner, the admins and PR managers over its unit).

One batch of events is one query per kind of recipient lookup and one bulk INSERT; a notification is written at
most once per person and event (a unique constraint), so handling a batch twice writes nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.core import audit
from dandelion.core.events import Event
from dandelion.core.exceptions import NotFoundError
from dandelion.notifications.models import DigestPreference, Notification

_CONVERSATION_TYPES = {"conversation.assigned", "conversation.resolved", "conversation.sla_breached"}
_INCIDENT_TYPES = {"crisis.incident_opened", "crisis.incident_escalated"}
_PENDING_TYPES = {"conversation.reply_held", "conversation.reply_approved", "conversation.reply_returned"}


def _conversation(event: Event) -> dict:
    return event.data.get("conversation") or {}


def _recipients(events: Sequence[Event]) -> list[tuple[Event, set[int]]]:
    from dandelion.orgs.models import Membership

    teams: set[int] = set()
    units: set[int] = set()
    for e in events:
        if e.name == "conversation.sla_breached":
            teams.update(int(t) for t in (_conversation(e).get("team_id"), e.data.get("notify_team_id")) if t)
        elif e.name == "account.changed" and e.unit_id:
            units.add(e.unit_id)
    members: dict[int, set[int]] = defaultdict(set)
    if teams:
        for team_id, user_id in Membership.objects.filter(team_id__in=teams, is_active=True).values_list(
                "team_id", "user_id"):
            members[team_id].add(user_id)
    admins: dict[int, set[int]] = defaultdict(set)
    if units:
        for unit_id, user_id in Membership.objects.filter(unit_id__in=units, is_active=True,
                                                          role="spoke_admin").values_list("unit_id", "user_id"):
            admins[unit_id].add(user_id)
    out = []
    for e in events:
        conv = _conversation(e)
        who: set[int] = set()
        if e.name == "conversation.assigned" and conv.get("assignee_id") or e.name == "conversation.resolved" and conv.get("assignee_id"):
            who.add(conv["assignee_id"])
        elif e.name == "conversation.sla_breached":
            if conv.get("assignee_id"):
                who.add(conv["assignee_id"])
            for team in (conv.get("team_id"), e.data.get("notify_team_id")):
                if team:
                    who |= members.get(int(team), set())
        elif e.name == "account.changed":
            account = e.data.get("account") or {}
            if account.get("owner_id"):
                who.add(account["owner_id"])
            if e.unit_id is not None:
                who |= admins.get(e.unit_id, set())
        elif e.name in _INCIDENT_TYPES:
            who |= {int(u) for u in (e.data.get("incident") or {}).get("notify_user_ids", [])}
        elif e.name in _PENDING_TYPES:
            who |= {int(u) for u in (e.data.get("pending") or {}).get("notify_user_ids", [])}
        who.discard(e.actor_id)
        if who:
            out.append((e, who))
    return out


def _data(event: Event) -> dict:
    conv = _conversation(event)
    account = event.data.get("account") or {}
    data = {"handle": account.get("handle", "")}
    if event.name in _CONVERSATION_TYPES or event.name in _PENDING_TYPES:
        data["conversation"] = conv.get("id")
    if event.name in _PENDING_TYPES:
        data["author"] = str((event.data.get("pending") or {}).get("author_name", ""))[:150]
        data["reason"] = str(event.data.get("reason", ""))[:300]
    if event.name == "conversation.sla_breached":
        data["metric"] = str(event.data.get("metric", "")).replace("_", " ")
    if event.name == "account.changed":
        data["change"] = event.data.get("change", "")
    if event.name in _INCIDENT_TYPES:
        incident = event.data.get("incident") or {}
        data.update(title=str(incident.get("title", ""))[:200], severity=incident.get("severity", ""))
    return data


def _url(event: Event) -> str:
    url = (_conversation(event).get("url") or (event.data.get("account") or {}).get("url")
           or (event.data.get("incident") or {}).get("url") or "")
    return url if url.startswith("/") and not url.startswith("//") else ""


def notify_for_events(events: Sequence[Event]) -> int:
    """The event subscriber: write the notifications the committed ``events`` call for. Returns how many."""
    planned = _recipients(events)
    if not planned:
        return 0
    wanted = set().union(*(who for _e, who in planned))
    active = set(get_user_model().objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    rows = [
        Notification(recipient_id=user_id, event_type=e.name, event_id=e.id, unit_id=e.unit_id,
                     subject_type=e.subject_type, subject_id=e.subject_id, data=_data(e), url=_url(e),
                     actor_repr=e.actor_repr, created_at=e.occurred_at)
        for e, who in planned for user_id in sorted(who & active)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- the recipient's actions ----------------------------------------------------------------------------------


@transaction.atomic
def mark_read(notification: Notification, *, actor) -> Notification:
    """Mark one of the actor's own notifications read (someone else's is not found: callers look it up through
    ``Notification.objects.for_recipient``)."""
    if notification.recipient_id != getattr(actor, "pk", None):
        raise NotFoundError(_("No such notification: it is not one of yours."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


@transaction.atomic
def mark_all_read(*, actor) -> int:
    """Mark every unread notification of the actor read; one audit row when there were any."""
    count = Notification.objects.for_recipient(actor).unread().update(read_at=timezone.now())
    if count:
        audit.record(actor=actor, action="notifications.mark_all_read", summary=f"Marked {count} notifications read",
                     changes={"unread": [count, 0]})
    return count


def unread_count(user) -> int:
    return Notification.objects.for_recipient(user).unread().count()


def email_digest_enabled(user) -> bool:
    """Whether ``user`` receives the daily digest (yes until they untick it)."""
    return not DigestPreference.objects.filter(user=user, email_digest=False).exists()


@transaction.atomic
def set_email_digest(*, actor, enabled: bool) -> DigestPreference:
    """The actor's own choice of the daily e-mail digest; one audit row when it changes."""
    preference, _created = DigestPreference.objects.select_for_update().get_or_create(user=actor)
    before = preference.email_digest
    if before != enabled:
        preference.email_digest = enabled
        preference.save(update_fields=["email_digest", "updated_at"])
        audit.record(actor=actor, action="notifications.email_digest",
                     summary=f"Daily e-mail digest {'on' if enabled else 'off'}",
                     changes={"email_digest": [before, enabled]})
    return preference
