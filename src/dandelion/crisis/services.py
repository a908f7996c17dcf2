"""Every write of the crisis room: verb_noun, keyword-only ``actor``, atomic, permission-checked, audited.

* Opening: :func:`open_incident` (by hand) and :func:`open_incident_for_alert` (from a listening spike, one
  incident per alert: calling it twice answers the same incident). :func:`escalate_incident` raises the severity
  (and :func:`escalate_for_alert` follows a spike that grows). Opening and escalating emit events: the bell
  (notifications), outgoing webhooks and the e-mails of :mod:`dandelion.crisis.alerts` follow from them.
* The room: :func:`assign_owner`, :func:`join_incident`, :func:`add_log_entry` (the shared, append-only log),
  :func:`set_status` (open ⇄ monitoring), :func:`pause_publishing` (the publishing app's ``pause_subtree`` on the
  incident's unit) and :func:`resume_publishing` (its ``resume_pause``), :func:`save_holding_statement`, :func:`push_statement_to_helpers` (the statement as a canned
  response of every helper team of the subtree, in one action).
* Closing: :func:`close_incident` writes the post-mortem (:mod:`dandelion.crisis.postmortem`).
* Playbooks: :func:`create_playbook`, :func:`update_playbook` (data: steps owned by roles, a holding statement);
  opening an incident copies the best-fitting one into its checklist (:func:`apply_playbook`, also callable by hand
  when the room has none yet); :func:`tick_item` ticks a step off (or back on).
* Stakeholder updates: :func:`send_stakeholder_update` e-mails an update to chosen addresses and the people on the
  room, once the transaction commits.

Every service writes a line of the room's log and one audit row in the same transaction. The first thing a person
does in the room (anything but reading it) is its ``first_response_at``, the time-to-respond of the post-mortem.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.core.actors import SYSTEM, is_system
from dandelion.core.audit import record
from dandelion.core.events import emit
from dandelion.core.permissions import has_perm, require_perm
from dandelion.crisis import events as ev
from dandelion.crisis.choices import (
    IncidentKind,
    IncidentSource,
    IncidentStatus,
    LogKind,
    PlaybookKind,
    ResponderRole,
)
from dandelion.crisis.exceptions import CrisisError, IncidentClosed
from dandelion.crisis.models import ChecklistItem, Incident, LogEntry, Playbook, Responder, StakeholderUpdate

logger = logging.getLogger(__name__)

PERM_VIEW = "crisis.view_incident"
PERM_OPEN = "crisis.add_incident"
PERM_CHANGE = "crisis.change_incident"
PERM_TICK = "crisis.change_checklistitem"
PERM_ADD_PLAYBOOK = "crisis.add_playbook"
PERM_CHANGE_PLAYBOOK = "crisis.change_playbook"
MAX_STAKEHOLDERS = 50
#: the roles told when an incident of their subtree opens or escalates (besides its owner)
ALERTED_ROLES = ("hub_admin", "spoke_admin", "pr_manager")
MAX_TEXT = 2000


def _person(actor):
    return None if is_system(actor) or not getattr(actor, "is_authenticated", False) else actor


def _actor_repr(actor) -> str:
    return (actor.get_username() if _person(actor) is not None else "system")[:150]


def _clean(text: str, *, field: str, limit: int = MAX_TEXT, required: bool = True) -> str:
    text = (text or "").replace("\x00", "").strip()
    if required and not text:
        raise CrisisError(_("This field is required."), field=field)
    if len(text) > limit:
        raise CrisisError(_("At most %(limit)s characters.") % {"limit": limit}, field=field)
    return text


def _severity(value) -> int:
    try:
        severity = int(value)
    except (TypeError, ValueError):
        raise CrisisError(_("The severity is a whole number from 1 to 10."), field="severity") from None
    if not 1 <= severity <= 10:
        raise CrisisError(_("The severity is a whole number from 1 to 10."), field="severity")
    return severity


def _log(incident: Incident, *, actor, text: str, kind: str = LogKind.SYSTEM, at: dt.datetime | None = None,
         action: str = "crisis.incident.log") -> LogEntry:
    """One line of the room's log and its audit row; a person's action is the room's first response."""
    now = at or timezone.now()
    entry = LogEntry.objects.create(incident=incident, at=now, kind=kind, actor=_person(actor),
                                    actor_repr=_actor_repr(actor), text=text[:MAX_TEXT])
    record(actor=actor, action=action, obj=incident, unit=incident.unit, summary=text[:300])
    if _person(actor) is not None and incident.first_response_at is None:
        incident.first_response_at = now
        Incident.objects.filter(pk=incident.pk, first_response_at__isnull=True).update(first_response_at=now)
    return entry


def log_line(incident: Incident, *, actor, text: str, kind: str = LogKind.SYSTEM,
             action: str = "crisis.incident.log") -> LogEntry:
    """A line of the room's log (and its audit row) written by another module of the app (PR routing)."""
    return _log(incident, actor=actor, text=text, kind=kind, action=action)


def _open_only(incident: Incident) -> None:
    if incident.is_closed:
        raise IncidentClosed(_("This incident is closed: its room is read-only."))


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_related("unit", "owner").select_for_update(of=("self",)).get(pk=incident.pk)


def alerted_users(incident: Incident) -> set[int]:
    """Who is told when the incident opens or escalates: its owner and the active hub admins, spoke admins and PR
    managers whose grant covers its unit (a membership on the unit or one of its ancestors)."""
    from dandelion.orgs.models import Membership

    parts = [p for p in incident.unit.path.split("/") if p]
    prefixes = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    users = set(Membership.objects.filter(unit__path__in=prefixes, role__in=ALERTED_ROLES, is_active=True,
                                          user__is_active=True).values_list("user_id", flat=True))
    if incident.owner_id:
        users.add(incident.owner_id)
    return users


SPIKE_SAMPLE = 5


def spike_messages(incident: Incident, limit: int = SPIKE_SAMPLE) -> list[dict]:
    """The spike's messages the people told should read first: the mentions of the firing window with the widest
    reach (then the earliest), as plain data for the event, the bell and the e-mails."""
    from dandelion.listening.models import MentionMatch

    if not incident.query_id or incident.alert_id is None or incident.detected_at is None:
        return []
    since = incident.spike_started_at or incident.detected_at
    rows = (MentionMatch.objects.filter(query_id=incident.query_id, posted_at__gte=since,
                                        posted_at__lte=incident.detected_at)
            .select_related("mention").order_by("-mention__author_reach", "posted_at", "pk")[:limit])
    return [{"author": m.mention.author[:150], "text": m.mention.text[:280], "url": m.mention.url[:500],
             "posted_at": m.posted_at.isoformat(), "reach": m.mention.author_reach} for m in rows]


def _announce(name: str, incident: Incident, *, actor) -> None:
    emit(ev.incident_event(name, incident, actor=_person(actor), notify=list(alerted_users(incident)),
                           base_url=getattr(settings, "DANDELION_BASE_URL", ""), spike=spike_messages(incident)))


# --- opening ---------------------------------------------------------------------------------------------------------

@transaction.atomic
def open_incident(*, actor, unit, title: str, severity: int = 5, summary: str = "", owner=None,
                  query=None, kind: str = IncidentKind.GENERAL) -> Incident:
    """Open a crisis room by hand on ``unit`` (and its subtree), with the checklist of its kind's playbook."""
    require_perm(actor, PERM_OPEN, unit)
    if kind not in IncidentKind.values:
        raise CrisisError(_("Choose a kind of crisis."), field="kind")
    title = _clean(title, field="title", limit=200)
    summary = _clean(summary, field="summary", limit=5000, required=False)
    severity = _severity(severity)
    if owner is not None:
        _check_owner(owner, unit)
    if query is not None and not unit.path.startswith(query.unit.path) and not query.unit.path.startswith(unit.path):
        raise CrisisError(_("The query belongs to another part of the organisation."), field="query")
    now = timezone.now()
    incident = Incident.objects.create(unit=unit, title=title, summary=summary, severity=severity,
                                       source=IncidentSource.MANUAL, owner=owner, opened_by=_person(actor),
                                       query=query, opened_at=now, detected_at=now, kind=kind)
    if owner is not None:
        Responder.objects.create(incident=incident, user=owner, role=ResponderRole.OWNER, joined_at=now)
    _log(incident, actor=actor, text=f"Incident opened by hand, severity {severity}/10.", at=now,
         action="crisis.incident.open")
    _instantiate(incident, actor=actor, at=now)
    _announce(ev.INCIDENT_OPENED.name, incident, actor=actor)
    return incident


def _spike_start(alert) -> dt.datetime:
    """The first matched mention of the window that fired (the detector looked back ``window_minutes``)."""
    from dandelion.listening.models import MentionMatch

    since = alert.started_at - dt.timedelta(minutes=max(alert.window_minutes, 1))
    first = (MentionMatch.objects.filter(query_id=alert.query_id, posted_at__gte=since,
                                         posted_at__lte=alert.started_at)
             .order_by("posted_at").values_list("posted_at", flat=True).first())
    return first or alert.started_at


def open_incident_for_alert(alert, *, actor=SYSTEM) -> tuple[Incident, bool]:
    """The incident of a listening spike, opened on the query's unit the first time (``(incident, True)``); any
    later call, for the same alert, answers the same incident (``(incident, False)``): one incident per spike."""
    existing = Incident.objects.filter(alert=alert).first()
    if existing is not None:
        return existing, False
    query = alert.query
    require_perm(actor, PERM_OPEN, query.unit)
    now = timezone.now()
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                unit=query.unit, title=f"Spike on '{query.name}'"[:200], severity=alert.severity,
                source=IncidentSource.ALERT, alert=alert, query=query, opened_by=_person(actor),
                spike_started_at=_spike_start(alert), detected_at=alert.started_at, opened_at=now,
                summary=(f"{alert.peak_count} mentions in {alert.window_minutes} min "
                         f"({alert.expected:.1f} expected)."))
            _log(incident, actor=actor, at=now, action="crisis.incident.open",
                 text=(f"Opened from a listening spike on '{query.name}': {alert.peak_count} mentions in "
                       f"{alert.window_minutes} min ({alert.expected:.1f} expected), severity {alert.severity}/10."))
            _instantiate(incident, actor=actor, at=now)
            _announce(ev.INCIDENT_OPENED.name, incident, actor=actor)
    except IntegrityError:  # opened meanwhile by another worker for the same alert
        return Incident.objects.get(alert=alert), False
    return incident, True


@transaction.atomic
def escalate_incident(incident: Incident, *, actor, severity: int, reason: str = "") -> Incident:
    """Raise (or lower) the severity; a rise is announced like an opening (bell, e-mail, webhook)."""
    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    severity = _severity(severity)
    reason = _clean(reason, field="reason", limit=500, required=False)
    old = incident.severity
    if severity == old:
        return incident
    incident.severity = severity
    if severity > old and incident.status == IncidentStatus.MONITORING:
        incident.status = IncidentStatus.OPEN  # a crisis that grows again is no longer just watched
    incident.save(update_fields=["severity", "status", "updated_at"])
    verb = "raised" if severity > old else "lowered"
    _log(incident, actor=actor, action="crisis.incident.severity",
         text=f"Severity {verb} from {old} to {severity}/10." + (f" {reason}" if reason else ""))
    if severity > old:
        _announce(ev.INCIDENT_ESCALATED.name, incident, actor=actor)
    return incident


def escalate_for_alert(alert, *, actor=SYSTEM) -> Incident | None:
    """A growing spike raises its incident's severity (announced); nothing when it has none or it is closed."""
    incident = Incident.objects.filter(alert=alert).first()
    if incident is None or incident.is_closed or alert.severity <= incident.severity:
        return incident
    return escalate_incident(incident, actor=actor, severity=alert.severity,
                             reason=f"The spike grew: {alert.peak_count} mentions in {alert.window_minutes} min.")


# --- the room --------------------------------------------------------------------------------------------------------

def _check_owner(owner, unit) -> None:
    if not getattr(owner, "is_active", False) or not has_perm(owner, PERM_CHANGE, unit):
        raise CrisisError(_("The owner must be a person who may act on this incident's unit."), field="owner")


@transaction.atomic
def assign_owner(incident: Incident, *, actor, owner) -> Incident:
    """Make ``owner`` the incident's PR owner (they join the room as such; the previous owner stays a responder)."""
    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    _check_owner(owner, incident.unit)
    if incident.owner_id == owner.pk:
        return incident
    now = timezone.now()
    Responder.objects.filter(incident=incident, role=ResponderRole.OWNER).update(role=ResponderRole.RESPONDER)
    Responder.objects.update_or_create(incident=incident, user=owner,
                                       defaults={"role": ResponderRole.OWNER}, create_defaults={
                                           "role": ResponderRole.OWNER, "joined_at": now})
    incident.owner = owner
    incident.save(update_fields=["owner", "updated_at"])
    _log(incident, actor=actor, kind=LogKind.ACTION, action="crisis.incident.owner",
         text=f"{owner.get_username()} is the PR owner.")
    return incident


@transaction.atomic
def join_incident(incident: Incident, *, actor, role: str = ResponderRole.RESPONDER) -> Responder:
    """The actor joins the room in ``role`` (not as owner: see :func:`assign_owner`); joining again changes the
    role."""
    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    if role not in ResponderRole.values or role == ResponderRole.OWNER:
        raise CrisisError(_("Choose a role (the PR owner is assigned)."), field="role")
    if _person(actor) is None:
        raise CrisisError(_("Only a person joins a crisis room."))
    responder = Responder.objects.filter(incident=incident, user=actor).first()
    if responder is not None and responder.role == ResponderRole.OWNER:
        return responder
    if responder is None:
        responder = Responder.objects.create(incident=incident, user=actor, role=role, joined_at=timezone.now())
    elif responder.role != role:
        responder.role = role
        responder.save(update_fields=["role"])
    else:
        return responder
    _log(incident, actor=actor, kind=LogKind.ACTION, action="crisis.incident.join",
         text=f"{actor.get_username()} is on it ({responder.get_role_display()}).")
    return responder


@transaction.atomic
def add_log_entry(incident: Incident, *, actor, text: str, kind: str = LogKind.NOTE) -> LogEntry:
    """Append a note, an action taken or a decision to the room's shared log (never changed afterwards)."""
    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    if kind not in (LogKind.NOTE, LogKind.ACTION, LogKind.DECISION):
        raise CrisisError(_("A log line is a note, an action or a decision."), field="kind")
    return _log(incident, actor=actor, kind=kind, text=_clean(text, field="text"))


_TRANSITIONS = {(IncidentStatus.OPEN, IncidentStatus.MONITORING), (IncidentStatus.MONITORING, IncidentStatus.OPEN)}


@transaction.atomic
def set_status(incident: Incident, *, actor, status: str) -> Incident:
    """open → monitoring (the crisis is contained, watched) and back; closing is :func:`close_incident`."""
    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    if incident.status == status:
        return incident
    if (incident.status, status) not in _TRANSITIONS:
        raise CrisisError(_("An incident goes from open to monitoring and back; close it with its post-mortem."),
                          field="status")
    old = incident.status
    incident.status = status
    if status == IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = timezone.now()
    incident.save(update_fields=["status", "monitoring_at", "updated_at"])
    _log(incident, actor=actor, kind=LogKind.DECISION, action="crisis.incident.status",
         text=f"Status {IncidentStatus(old).label} → {IncidentStatus(status).label}.")
    return incident


@transaction.atomic
def pause_publishing(incident: Incident, *, actor, reason: str = "") -> Incident:
    """Hold every scheduled post of the incident's subtree through the publishing app's own service (its
    permission, its audit row); the pause is linked to the room. Resuming is done on the publishing side."""
    from dandelion.publishing.services import pause_subtree

    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    if incident.pause_id and incident.pause and incident.pause.ended_at is None:
        raise CrisisError(_("Publishing is already paused for this incident."))
    reason = _clean(reason, field="reason", limit=400, required=False) or f"Crisis: {incident.title}"
    pause = pause_subtree(actor=actor, unit=incident.unit, reason=reason)
    incident.pause = pause
    incident.save(update_fields=["pause", "updated_at"])
    _log(incident, actor=actor, kind=LogKind.ACTION, action="crisis.incident.pause",
         text=f"Publishing paused for {incident.unit.name} and below: {pause.posts_paused} scheduled post(s) held.")
    return incident


@transaction.atomic
def resume_publishing(incident: Incident, *, actor) -> dict[str, int]:
    """End the room's publishing pause through the publishing app's ``resume_pause`` (its permission, its audit
    row): posts still ahead of their time are scheduled again, those that fell due stay held. Returns the counts."""
    from dandelion.publishing.services import resume_pause

    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    if incident.pause is None or incident.pause.ended_at is not None:
        raise CrisisError(_("Publishing is not paused from this room."))
    counts = resume_pause(incident.pause, actor=actor)
    _log(incident, actor=actor, kind=LogKind.ACTION, action="crisis.incident.resume",
         text=(f"Publishing resumed for {incident.unit.name} and below: {counts['resumed']} post(s) scheduled "
               f"again, {counts['fell_due']} fell due meanwhile and stay held."))
    return counts


@transaction.atomic
def save_holding_statement(incident: Incident, *, actor, text: str) -> Incident:
    """Save the holding statement's draft (each saved version is a line of the log)."""
    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    text = _clean(text, field="holding_statement", limit=5000)
    if text == incident.holding_statement:
        return incident
    first = not incident.holding_statement
    incident.holding_statement = text
    incident.statement_updated_at = timezone.now()
    incident.save(update_fields=["holding_statement", "statement_updated_at", "updated_at"])
    _log(incident, actor=actor, kind=LogKind.ACTION, action="crisis.incident.statement",
         text=("Holding statement drafted: " if first else "Holding statement revised: ") + text[:200])
    return incident


CANNED_SHORTCUT = "crisis-{pk}"
MAX_TRANSLATIONS = 30
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def _language(value) -> str:
    code = str(value or "").strip().lower().replace("_", "-")
    if not _LANGUAGE_RE.match(code):
        raise CrisisError(_("A language is a code such as fr, es or pt-br."), field="language")
    return code


@transaction.atomic
def save_statement_translation(incident: Incident, *, actor, language: str, text: str) -> Incident:
    """Save the holding statement in ``language`` (an empty ``text`` removes that language). The draft itself is
    in the room's language (:attr:`Incident.statement_language`); pushing gives each helper team the text in its
    languages, else that draft. Each change is a line of the log and an audit row."""
    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    language = _language(language)
    if language == incident.statement_language:
        raise CrisisError(_("The draft is already in the room's language: edit the draft itself."), field="language")
    text = _clean(text, field="text", limit=5000, required=False)
    translations = dict(incident.statement_translations or {})
    if translations.get(language, "") == text:
        return incident
    if text:
        if language not in translations and len(translations) >= MAX_TRANSLATIONS:
            raise CrisisError(f"At most {MAX_TRANSLATIONS} languages.", field="language")
        translations[language] = text
    else:
        translations.pop(language, None)
    incident.statement_translations = dict(sorted(translations.items()))
    incident.statement_updated_at = timezone.now()
    incident.save(update_fields=["statement_translations", "statement_updated_at", "updated_at"])
    _log(incident, actor=actor, kind=LogKind.ACTION, action="crisis.incident.statement_translation",
         text=(f"Holding statement in {language}: {text[:200]}" if text
               else f"Holding statement in {language} removed."))
    return incident


def statement_texts(incident: Incident) -> dict[str, str]:
    """``{language: text}`` of the holding statement: its translations and the draft in the room's language."""
    texts = {k: v for k, v in (incident.statement_translations or {}).items() if v}
    if (incident.holding_statement or "").strip():
        texts[incident.statement_language] = incident.holding_statement.strip()
    return texts


def localise(texts: dict[str, str], room_language: str, wanted: list[str]) -> tuple[str, str, dict[str, str],
                                                                                    dict[str, str]]:
    """The canned response for a unit whose helper teams work in ``wanted`` languages: ``(language, body,
    translations, gets)``. Each wanted language gets its own text when there is one, else the room's (the
    fallback); ``gets`` says which language each wanted one receives. Pure."""
    wanted = list(dict.fromkeys(wanted)) or [room_language]
    gets = {lang: lang if lang in texts else room_language for lang in wanted}
    if all(lang in texts for lang in wanted):
        language = wanted[0]
    else:  # the body is the fallback: a language without its own text reads the room's
        language = room_language
    translations = {lang: texts[lang] for lang in wanted if lang in texts and lang != language}
    return language, texts[language], translations, gets


@dataclass(frozen=True)
class PushedStatement:
    """What one unit's helper teams received: the canned response, the teams, and for each of their languages the
    language of the text they get (different from it: the fallback to the room's language)."""

    canned: object
    teams: tuple[str, ...]
    gets: dict[str, str]

    @property
    def fallbacks(self) -> list[str]:
        return sorted(lang for lang, got in self.gets.items() if got != lang)


def helper_units(incident: Incident) -> list[tuple[object, list[str], list[str]]]:
    """``(unit, team names, languages)`` of every unit of the incident's subtree with an active helper team: the
    languages are its helper teams' (in order), else the unit's."""
    from dandelion.orgs.choices import TeamKind
    from dandelion.orgs.models import Team

    by_unit: dict[int, tuple[object, list[str], list[str]]] = {}
    for team in (Team.objects.filter(kind=TeamKind.HELPERS, is_active=True, unit__path__startswith=incident.unit.path)
                 .select_related("unit").order_by("unit__path", "name")):
        unit, names, languages = by_unit.setdefault(team.unit_id, (team.unit, [], []))
        names.append(team.name)
        languages.extend(str(lang).lower() for lang in (team.languages or []) if lang)
    out = []
    for unit, names, languages in by_unit.values():
        languages = list(dict.fromkeys(languages or [str(lang).lower() for lang in (unit.languages or [])]))
        out.append((unit, names, languages))
    return out


@transaction.atomic
def push_statement_to_helpers(incident: Incident, *, actor) -> list[PushedStatement]:
    """One action: the holding statement becomes a canned response of every unit of the incident's subtree that has
    a helper team (shortcut ``crisis-<id>``), each team getting the text in its languages where PR wrote one, else
    the room's (the fallback, said as such), so each team's agents answer with it; pushing again after a revision
    updates them. Through the inbox's canned-response service (its permission checks and audit rows), plus one line
    of the room's log naming the teams. Returns what each unit received."""
    from dandelion.inbox.models import CannedResponse
    from dandelion.inbox.services import create_canned_response, update_canned_response

    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    if not (incident.holding_statement or "").strip():
        raise CrisisError(_("Draft the holding statement first."), field="holding_statement")
    units = helper_units(incident)
    if not units:
        raise CrisisError(_("No helper team works under this unit."))
    texts, room_language = statement_texts(incident), incident.statement_language
    shortcut = CANNED_SHORTCUT.format(pk=incident.pk)
    title = f"Holding statement: {incident.title}"[:120]
    pushed = []
    for unit, names, languages in units:
        language, body, translations, gets = localise(texts, room_language, languages)
        canned = CannedResponse.objects.filter(unit=unit, shortcut=shortcut).first()
        if canned is None:
            canned = create_canned_response(unit=unit, title=title, shortcut=shortcut, body=body, actor=actor,
                                            language=language, translations=translations)
        else:
            canned = update_canned_response(canned, actor=actor, title=title, body=body, language=language,
                                            translations=translations)
        pushed.append(PushedStatement(canned=canned, teams=tuple(names), gets=gets))
    parts = []
    for p in pushed:
        langs = ", ".join(lang if got == lang else f"{lang} → {got} (fallback)" for lang, got in p.gets.items())
        parts.append(f"{', '.join(p.teams)} [{langs}]")
    _log(incident, actor=actor, kind=LogKind.ACTION, action="crisis.incident.statement_pushed",
         text=f"Holding statement pushed as the canned response '{shortcut}' to "
              f"{sum(len(p.teams) for p in pushed)} helper team(s): {'; '.join(parts)}.")
    return pushed


@transaction.atomic
def close_incident(incident: Incident, *, actor, summary: str) -> Incident:
    """Close the room with the post-mortem: what happened (``summary``), the timeline, the actions, and the times
    to detect, to respond and to close computed from the stored timestamps."""
    from dandelion.crisis.postmortem import render_markdown

    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    summary = _clean(summary, field="summary", limit=5000)
    now = timezone.now()
    _log(incident, actor=actor, kind=LogKind.DECISION, at=now, action="crisis.incident.close",
         text="Incident closed.")
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = now
    incident.summary = summary
    incident.postmortem = render_markdown(incident, list(incident.log.order_by("at", "pk")))
    incident.save(update_fields=["status", "closed_at", "summary", "postmortem", "updated_at"])
    emit(ev.incident_event(ev.INCIDENT_CLOSED.name, incident, actor=_person(actor),
                           base_url=getattr(settings, "DANDELION_BASE_URL", "")))
    return incident


# --- playbooks and the checklist ------------------------------------------------------------------------------------

def _playbook_fields(*, name: str, kind: str, min_severity, steps, holding_statement: str) -> dict:
    from dandelion.crisis.playbooks import clean_steps

    if kind not in PlaybookKind.values:
        raise CrisisError(_("Choose a kind of crisis."), field="kind")
    return {"name": _clean(name, field="name", limit=120), "kind": kind, "min_severity": _severity(min_severity),
            "steps": clean_steps(steps),
            "holding_statement": _clean(holding_statement, field="holding_statement", limit=5000, required=False)}


@transaction.atomic
def create_playbook(*, actor, unit, name: str, steps: list, kind: str = PlaybookKind.ANY, min_severity: int = 1,
                    holding_statement: str = "", is_active: bool = True) -> Playbook:
    """A playbook for the incidents of ``unit`` and below (the hub's applies everywhere)."""
    require_perm(actor, PERM_ADD_PLAYBOOK, unit)
    fields = _playbook_fields(name=name, kind=kind, min_severity=min_severity, steps=steps,
                              holding_statement=holding_statement)
    playbook = Playbook.objects.create(unit=unit, is_active=bool(is_active), **fields)
    record(actor=actor, action="crisis.playbook.create", obj=playbook, unit=unit,
           summary=f"Playbook '{playbook.name}' ({len(playbook.steps)} steps)")
    return playbook


@transaction.atomic
def update_playbook(playbook: Playbook, *, actor, name: str, steps: list, kind: str = PlaybookKind.ANY,
                    min_severity: int = 1, holding_statement: str = "", is_active: bool = True) -> Playbook:
    """Change a playbook; the rooms already open keep the checklist they were given."""
    playbook = Playbook.objects.select_related("unit").select_for_update(of=("self",)).get(pk=playbook.pk)
    require_perm(actor, PERM_CHANGE_PLAYBOOK, playbook.unit)
    fields = _playbook_fields(name=name, kind=kind, min_severity=min_severity, steps=steps,
                              holding_statement=holding_statement)
    for key, value in fields.items():
        setattr(playbook, key, value)
    playbook.is_active = bool(is_active)
    playbook.save()
    record(actor=actor, action="crisis.playbook.update", obj=playbook, unit=playbook.unit,
           summary=f"Playbook '{playbook.name}' ({len(playbook.steps)} steps, active: {playbook.is_active})")
    return playbook


def playbook_for(incident: Incident) -> Playbook | None:
    """The active playbook that fits the incident best (:func:`dandelion.crisis.playbooks.choose`)."""
    from dandelion.crisis.playbooks import choose

    parts = [p for p in incident.unit.path.split("/") if p]
    prefixes = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    candidates = Playbook.objects.filter(unit__path__in=prefixes, is_active=True,
                                         kind__in=(incident.kind, PlaybookKind.ANY),
                                         min_severity__lte=incident.severity).select_related("unit")
    return choose(candidates, unit_path=incident.unit.path, kind=incident.kind, severity=incident.severity)


def _instantiate(incident: Incident, *, actor, at: dt.datetime, playbook: Playbook | None = None) -> int:
    """Copy the playbook's steps into the room's checklist (due times from the room's opening) and its holding
    statement into an empty draft; a log line says which playbook. Returns how many steps were copied."""
    playbook = playbook or playbook_for(incident)
    if playbook is None:
        return 0
    start = incident.opened_at
    ChecklistItem.objects.bulk_create([
        ChecklistItem(incident=incident, position=i, title=step["title"], owner_role=step["owner_role"],
                      due_at=start + dt.timedelta(minutes=step["due_minutes"]) if step["due_minutes"] else None)
        for i, step in enumerate(playbook.steps, start=1)])
    incident.playbook = playbook
    fields = ["playbook", "updated_at"]
    if playbook.holding_statement and not incident.holding_statement:
        incident.holding_statement = playbook.holding_statement
        incident.statement_updated_at = at
        fields += ["holding_statement", "statement_updated_at"]
    incident.save(update_fields=fields)
    # the system's line, not a person's response (even when a person opened the room or applied the playbook)
    entry = LogEntry.objects.create(incident=incident, at=at, kind=LogKind.SYSTEM, actor=_person(actor),
                                    actor_repr=_actor_repr(actor),
                                    text=f"Playbook '{playbook.name}': {len(playbook.steps)} step(s) to do.")
    record(actor=actor, action="crisis.incident.playbook", obj=incident, unit=incident.unit, summary=entry.text)
    return len(playbook.steps)


@transaction.atomic
def apply_playbook(incident: Incident, *, actor, playbook: Playbook | None = None,
                   kind: str | None = None) -> Incident:
    """Give a room that has no checklist yet a playbook's: the one chosen, or the best fit for ``kind`` (the
    incident's kind is changed to it). A room keeps its first checklist: applying again is refused."""
    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    if incident.playbook_id or incident.checklist.exists():
        raise CrisisError(_("This incident already follows a playbook."), field="playbook")
    if kind is not None:
        if kind not in IncidentKind.values:
            raise CrisisError(_("Choose a kind of crisis."), field="kind")
        if kind != incident.kind:
            incident.kind = kind
            incident.save(update_fields=["kind", "updated_at"])
    if playbook is not None:
        if not incident.unit.path.startswith(playbook.unit.path) or not playbook.is_active:
            raise CrisisError(_("This playbook does not apply to this incident's unit."), field="playbook")
    else:
        playbook = playbook_for(incident)
        if playbook is None:
            raise CrisisError(_("No playbook fits this kind of incident at this severity."), field="kind")
    _instantiate(incident, actor=actor, at=timezone.now(), playbook=playbook)
    return incident


@transaction.atomic
def tick_item(item: ChecklistItem, *, actor, done: bool = True) -> ChecklistItem:
    """Tick a checklist step off (``done``) or back on; PR, the admins and the spokes' community managers over the
    unit may. Each change is a line of the log (a person's action) and an audit row."""
    item = (ChecklistItem.objects.select_related("incident__unit").select_for_update(of=("self",))
            .get(pk=item.pk))
    incident = item.incident
    require_perm(actor, PERM_TICK, incident.unit)
    _open_only(incident)
    if _person(actor) is None:
        raise CrisisError(_("Only a person ticks a step off."))
    if item.is_done == bool(done):
        return item
    now = timezone.now()
    item.done_at, item.done_by = (now, actor) if done else (None, None)
    item.save(update_fields=["done_at", "done_by"])
    late = ""
    if done and item.due_at is not None and now > item.due_at:
        late = f" ({round((now - item.due_at).total_seconds() / 60)} min late)"
    _log(incident, actor=actor, kind=LogKind.ACTION, at=now, action="crisis.checklist.tick",
         text=(f"Step {item.position} done: {item.title}{late}" if done
               else f"Step {item.position} reopened: {item.title}"))
    return item


def progress(items) -> dict:
    """``{"done": n, "total": n, "percent": 0–100, "overdue": n}`` of a checklist (already loaded rows)."""
    items = list(items)
    now = timezone.now()
    done = sum(1 for i in items if i.is_done)
    return {"done": done, "total": len(items), "percent": round(100 * done / len(items)) if items else 0,
            "overdue": sum(1 for i in items if not i.is_done and i.due_at is not None and i.due_at < now)}


# --- stakeholder updates ---------------------------------------------------------------------------------------------

def _addresses(raw) -> list[str]:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if isinstance(raw, str):
        raw = raw.replace(";", ",").replace("\n", ",").split(",")
    found: list[str] = []
    for value in raw or []:
        address = str(value).strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise CrisisError(_("'%(address)s' is not an e-mail address.") % {"address": address[:80]}, field="recipients") from None
        if address.lower() not in {a.lower() for a in found}:
            found.append(address)
    return found


@transaction.atomic
def send_stakeholder_update(incident: Incident, *, actor, subject: str, body: str, recipients=(),
                            include_responders: bool = True) -> StakeholderUpdate:
    """E-mail an update on the incident to ``recipients`` (addresses) and, with ``include_responders``, to the
    people on the room; one message each, sent when the transaction commits. Kept, logged and audited."""
    from dandelion.crisis.alerts import send_stakeholder_emails

    incident = _locked(incident)
    require_perm(actor, PERM_CHANGE, incident.unit)
    _open_only(incident)
    subject = _clean(subject, field="subject", limit=200)
    body = _clean(body, field="body", limit=5000)
    to = _addresses(recipients)
    if include_responders:
        known = {a.lower() for a in to}
        for email in (incident.responders.filter(user__is_active=True).exclude(user__email="")
                      .order_by("joined_at", "pk").values_list("user__email", flat=True)):
            if email.lower() not in known:
                to.append(email)
                known.add(email.lower())
    if not to:
        raise CrisisError(_("Give at least one recipient."), field="recipients")
    if len(to) > MAX_STAKEHOLDERS:
        raise CrisisError(_("At most %(max_stakeholders)s recipients.") % {"max_stakeholders": MAX_STAKEHOLDERS}, field="recipients")
    now = timezone.now()
    update = StakeholderUpdate.objects.create(incident=incident, sent_at=now, sent_by=_person(actor),
                                              subject=subject, body=body, recipients=to)
    _log(incident, actor=actor, kind=LogKind.ACTION, at=now, action="crisis.incident.stakeholders",
         text=f"Stakeholder update '{subject}' e-mailed to {len(to)} recipient(s).")
    transaction.on_commit(lambda: send_stakeholder_emails(update.pk), robust=True)
    return update


# --- the event subscriber --------------------------------------------------------------------------------------------

def on_events(events: Iterable) -> None:
    """The ``crisis`` event subscriber: a listening spike opens its room (once), a spike that grows escalates it,
    a new inbox conversation that matches an open room's query is routed to PR (:mod:`dandelion.crisis.routing`),
    and the room's openings and escalations are e-mailed (:mod:`dandelion.crisis.alerts`)."""
    from dandelion.crisis.alerts import send_incident_emails
    from dandelion.crisis.routing import route_conversations
    from dandelion.listening.models import Alert

    to_mail = []
    created = []
    for event in events:
        if event.name == "conversation.created" and str(event.subject_id).isdigit():
            created.append(int(event.subject_id))
        elif event.name in ("listening.alert_opened", "listening.alert_updated"):
            alert = Alert.objects.select_related("query__unit").filter(pk=event.subject_id).first()
            if alert is None:
                continue
            if event.name == "listening.alert_opened" or not Incident.objects.filter(alert=alert).exists():
                open_incident_for_alert(alert, actor=SYSTEM)
            else:
                escalate_for_alert(alert, actor=SYSTEM)
        elif event.name in (ev.INCIDENT_OPENED.name, ev.INCIDENT_ESCALATED.name):
            to_mail.append(event)
    if created:  # new inbound conversations matching an open room's query go to PR
        try:  # on its own: a failure here never undoes a room opened from the same batch of events
            with transaction.atomic():
                route_conversations(created, actor=SYSTEM)
        except Exception:
            logger.exception("crisis: routing %s new conversation(s) to PR failed", len(created))
    if to_mail:
        send_incident_emails(to_mail)
