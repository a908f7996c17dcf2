"""The crisis room's pages: the incidents, the room (spike chart, mentions, who is on it, the shared log, pause
publishing, the holding statement), the close form and the post-mortem.

Reads go through ``restrict()`` (404 outside the viewer's scope, 403 when seen but not allowed); every write through
``crisis.services``."""

from __future__ import annotations

import functools
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dandelion.core.permissions import has_perm
from dandelion.core.plugins import incident_page_sources
from dandelion.core.view_helpers import (
    call_service,
    confirm_then_act,
    get_for,
    get_visible,
    paginate,
    require,
)
from dandelion.crisis import postmortem, services, timeline
from dandelion.crisis.choices import IncidentStatus
from dandelion.crisis.forms import (
    ApplyPlaybookForm,
    CloseForm,
    IncidentForm,
    JoinForm,
    LogForm,
    OwnerForm,
    PauseForm,
    PlaybookForm,
    SeverityForm,
    StakeholderForm,
    StatementForm,
    StatementTranslationForm,
    StatusForm,
    TickForm,
)
from dandelion.crisis.models import ChecklistItem, Incident, Playbook
from dandelion.crisis.playbooks import steps_to_text

PERM_VIEW = services.PERM_VIEW
PERM_OPEN = services.PERM_OPEN
PERM_CHANGE = services.PERM_CHANGE


@login_required
@require_GET
def incident_list(request):
    require(request.user, PERM_VIEW)
    qs = Incident.objects.restrict(request.user, "view").select_related("unit", "owner").order_by("-opened_at", "-pk")
    status = request.GET.get("status")
    if status in IncidentStatus.values:
        qs = qs.filter(status=status)
    return render(request, "crisis/incident_list.html", {
        "page": paginate(request, qs), "status": status, "statuses": IncidentStatus.choices,
        "can_add": has_perm(request.user, PERM_OPEN)})


@login_required
@require_http_methods(["GET", "POST"])
def incident_create(request):
    require(request.user, PERM_OPEN)
    form = IncidentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        incident, ok = call_service(request, services.open_incident, form=form, **form.cleaned_data)
        if ok:
            messages.success(request, _("Crisis room opened."))
            return redirect(incident)
    return render(request, "crisis/incident_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def incident_detail(request, pk: int):
    incident = get_visible(request, Incident.objects.select_related("unit", "owner", "query", "alert", "pause"), pk)
    mentions = None
    if incident.query_id:
        from dandelion.listening.models import MentionMatch

        start, end = timeline.window(incident)
        mentions = paginate(request, MentionMatch.objects.filter(
            query_id=incident.query_id, posted_at__gte=start, posted_at__lt=end).select_related("mention")
            .order_by("-posted_at", "-pk"), per_page=20)
    can_change = has_perm(request.user, PERM_CHANGE, incident.unit) and not incident.is_closed
    routed, routed_count = _routed(request.user, incident)
    checklist = list(incident.checklist.select_related("done_by"))
    now = timezone.now()
    for item in checklist:
        item.overdue = not item.is_done and item.due_at is not None and item.due_at < now
    panels: list[str] = []
    extra: dict = {}
    for source in incident_page_sources():  # what other apps add to the room (the websites' crisis banner)
        contributed = dict(source(request.user, incident))
        panels.extend(contributed.pop("incident_panels", ()))
        extra.update(contributed)
    return render(request, "crisis/incident_detail.html", {
        **extra, "incident_panels": panels,
        "checklist": checklist, "progress": services.progress(checklist),
        "routed": routed, "routed_count": routed_count,
        "can_tick": has_perm(request.user, services.PERM_TICK, incident.unit) and not incident.is_closed,
        "apply_form": ApplyPlaybookForm(prefix="playbook", initial={"kind": incident.kind}),
        "stakeholder_form": StakeholderForm(initial={"include_responders": True}),
        "stakeholder_updates": incident.stakeholder_updates.select_related("sent_by"),
        "incident": incident, "series": timeline.series(incident), "mentions": mentions,
        "responders": incident.responders.select_related("user"),
        "log": incident.log.select_related("actor").order_by("-at", "-pk"),
        "figures": postmortem.figures(incident),
        "can_change": can_change,
        "can_pause": can_change and has_perm(request.user, "publishing.add_crisispause", incident.unit),
        "can_resume": can_change and has_perm(request.user, "publishing.change_crisispause", incident.unit),
        "log_form": LogForm(), "join_form": JoinForm(), "owner_form": OwnerForm(incident=incident),
        "status_form": StatusForm(initial={"status": incident.status}),
        "severity_form": SeverityForm(initial={"severity": incident.severity}), "pause_form": PauseForm(),
        "statement_form": StatementForm(initial={"holding_statement": incident.holding_statement}),
        "translation_form": StatementTranslationForm(),
        "pushed": _pushed(incident) if incident.holding_statement else [],
    })


ROUTED_SHOWN = 50


def _routed(user, incident: Incident) -> tuple[list, int]:
    """The newest conversations the room routed to PR that ``user`` may see in the inbox (with their live state),
    and how many the room routed in all."""
    from dandelion.inbox.models import Conversation

    rows = incident.routed_conversations.all()
    visible = Conversation.objects.restrict(user, "view").values("pk")
    shown = list(rows.filter(conversation__in=visible).select_related(
        "conversation__contact", "conversation__team", "conversation__assignee", "conversation__account")
        .order_by("-routed_at", "-pk")[:ROUTED_SHOWN])
    return shown, rows.count()


def _act(request, pk: int, form_class, service, success, **form_kwargs):
    """Validate ``form_class``, call ``service`` on the incident, say ``success`` (a text, or a function of the
    form's data giving it) and go back to the room."""
    incident = get_for(request, Incident.objects.select_related("unit"), pk, PERM_CHANGE)
    form = form_class(request.POST, **form_kwargs(incident) if callable(form_kwargs) else {})
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(incident)
    _result, ok = call_service(request, service, incident, **form.cleaned_data)
    if ok:
        messages.success(request, success if isinstance(success, str) else success(form.cleaned_data))
    return redirect(incident)


@login_required
@require_POST
def incident_log(request, pk: int):
    return _act(request, pk, LogForm, services.add_log_entry, _("Added to the log."))


@login_required
@require_POST
def incident_join(request, pk: int):
    return _act(request, pk, JoinForm, services.join_incident, _("You are on it."))


@login_required
@require_POST
def incident_owner(request, pk: int):
    incident = get_for(request, Incident.objects.select_related("unit"), pk, PERM_CHANGE)
    form = OwnerForm(request.POST, incident=incident)
    if not form.is_valid():
        messages.error(request, _("Choose a person who may act on this incident."))
        return redirect(incident)
    _result, ok = call_service(request, services.assign_owner, incident, owner=form.cleaned_data["owner"])
    if ok:
        messages.success(request, _("PR owner assigned."))
    return redirect(incident)


@login_required
@require_POST
def incident_status(request, pk: int):
    return _act(request, pk, StatusForm, services.set_status, _("Status changed."))


@login_required
@require_POST
def incident_severity(request, pk: int):
    return _act(request, pk, SeverityForm, services.escalate_incident, _("Severity changed."))


@login_required
@require_POST
def incident_pause(request, pk: int):
    return _act(request, pk, PauseForm, services.pause_publishing,
                _("Publishing is paused for this part of the organisation."))


@login_required
@require_http_methods(["GET", "POST"])
def incident_resume(request, pk: int):
    """Resume the publishing the room paused (a confirmation first): ``services.resume_publishing``."""
    incident = get_for(request, Incident.objects.select_related("unit"), pk, PERM_CHANGE)
    require(request.user, "publishing.change_crisispause", incident.unit)

    def act():
        counts, ok = call_service(request, services.resume_publishing, incident)
        if ok:
            messages.success(request, _("Publishing resumed: %(resumed)d post(s) scheduled again, %(fell_due)d "
                                        "fell due meanwhile and stay held.") % counts)
        return redirect(incident)

    return confirm_then_act(
        request, act=act, title=_("Resume publishing"),
        question=_("Resume the scheduled posts of %(unit)s and below? Those still ahead of their time are sent as "
                   "planned.") % {"unit": incident.unit.name},
        cancel_url=incident.get_absolute_url(), confirm_label=_("Resume publishing"), danger=False)


@login_required
@require_POST
def incident_statement(request, pk: int):
    incident = get_for(request, Incident.objects.select_related("unit"), pk, PERM_CHANGE)
    form = StatementForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the statement (at most 5,000 characters)."))
        return redirect(incident)
    _result, ok = call_service(request, services.save_holding_statement, incident,
                               text=form.cleaned_data["holding_statement"])
    if ok:
        messages.success(request, _("Holding statement saved."))
    return redirect(incident)


@login_required
@require_POST
def incident_statement_translation(request, pk: int):
    return _act(request, pk, StatementTranslationForm, services.save_statement_translation,
                lambda data: _("Translation saved.") if data["text"].strip() else _("Translation removed."))


def _pushed_summary(pushed) -> str:
    parts = []
    for p in pushed:
        langs = ", ".join(lang if got == lang else _("%(lang)s (fallback to %(got)s)") % {"lang": lang, "got": got}
                          for lang, got in p.gets.items())
        parts.append(f"{', '.join(p.teams)} ({p.canned.unit.name}: {langs})")
    return "; ".join(parts)


@login_required
@require_http_methods(["GET", "POST"])
def incident_push_statement(request, pk: int):
    """*Push to the helpers*: a confirmation, then the holding statement as a canned response of every helper
    team of the subtree (``services.push_statement_to_helpers``); the result names the teams reached."""
    incident = get_for(request, Incident.objects.select_related("unit"), pk, PERM_CHANGE)

    def act():
        pushed, ok = call_service(request, services.push_statement_to_helpers, incident)
        if ok:
            messages.success(request, ngettext(
                "Holding statement pushed to %(n)d helper team: %(teams)s.",
                "Holding statement pushed to %(n)d helper teams: %(teams)s.",
                sum(len(p.teams) for p in pushed)) % {"n": sum(len(p.teams) for p in pushed),
                                                       "teams": _pushed_summary(pushed)})
        return redirect(incident)

    units = services.helper_units(incident)
    teams = ", ".join(name for _unit, names, _langs in units for name in names) or _("none")
    return confirm_then_act(
        request, act=act, title=_("Push the holding statement to the helpers"),
        question=_("Make the holding statement a canned response (shortcut %(shortcut)s) of every helper team "
                   "under %(unit)s, in their languages where a translation exists, else in %(language)s: "
                   "%(teams)s?") % {"shortcut": services.CANNED_SHORTCUT.format(pk=incident.pk),
                                    "unit": incident.unit.name, "language": incident.statement_language,
                                    "teams": teams},
        cancel_url=incident.get_absolute_url(), confirm_label=_("Push to the helpers"), danger=False)


def _pushed(incident: Incident) -> list[dict]:
    """What the helper teams hold now: each unit's canned response of this room, its teams, and what each of
    their languages gets (its own text, or the room's as the fallback)."""
    from dandelion.inbox.models import CannedResponse

    canned = {c.unit_id: c for c in CannedResponse.objects.filter(
        shortcut=services.CANNED_SHORTCUT.format(pk=incident.pk), unit__path__startswith=incident.unit.path)}
    out = []
    for unit, names, languages in services.helper_units(incident):
        c = canned.get(unit.pk)
        if c is None:
            continue
        have = {c.language, *(c.translations or {})}
        out.append({"unit": unit, "teams": names, "canned": c, "updated_at": c.updated_at,
                    "languages": [(lang, lang if lang in have else c.language) for lang in languages]})
    return out


@login_required
@require_http_methods(["GET", "POST"])
def incident_close(request, pk: int):
    incident = get_for(request, Incident.objects.select_related("unit"), pk, PERM_CHANGE)
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _result, ok = call_service(request, services.close_incident, incident, form=form, **form.cleaned_data)
        if ok:
            messages.success(request, _("Incident closed; its post-mortem is written."))
            return redirect("crisis:incident-postmortem", pk=incident.pk)
    return render(request, "crisis/incident_close.html", {"incident": incident, "form": form},
                  status=400 if form.errors else 200)


EXPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'")


@functools.cache
def _export_style():
    """The export's style sheet, inlined: the downloaded document stands alone (the file is ours, not input)."""
    css = (Path(__file__).parent / "static" / "crisis" / "postmortem-export.css").read_text(encoding="utf-8")
    return mark_safe(f"<style>{css}</style>")


@login_required
@require_GET
def incident_postmortem(request, pk: int):
    incident = get_visible(request, Incident.objects.select_related("unit", "owner"), pk)
    if request.GET.get("format") == "md" and incident.postmortem:
        response = HttpResponse(incident.postmortem, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="postmortem-{incident.pk}.md"'
        return response
    if request.GET.get("format") == "pdf" and incident.postmortem:
        response = HttpResponse(postmortem.render_pdf(incident, list(incident.log.order_by("at", "pk"))),
                                content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="postmortem-{incident.pk}.pdf"'
        return response
    context = {"incident": incident, "figures": postmortem.figures(incident),
               "log": incident.log.order_by("at", "pk"), "actions": postmortem.actions(incident),
               "checklist": incident.checklist.select_related("done_by"),
               "updates": incident.stakeholder_updates.select_related("sent_by"),
               "chart": postmortem.volume_chart(incident)}
    if request.GET.get("format") == "html":
        # the export: one self-contained HTML document (inline styles, an SVG chart), made to be printed to PDF
        response = render(request, "crisis/postmortem_export.html", {**context, "export_style": _export_style()})
        response["Content-Disposition"] = f'attachment; filename="postmortem-{incident.pk}.html"'
        # its own policy: nothing but its inline style sheet (no script, no request anywhere)
        response["Content-Security-Policy"] = EXPORT_CSP
        return response
    return render(request, "crisis/incident_postmortem.html", context)


@login_required
@require_POST
def incident_apply_playbook(request, pk: int):
    incident = get_for(request, Incident.objects.select_related("unit"), pk, PERM_CHANGE)
    form = ApplyPlaybookForm(request.POST, prefix="playbook")  # the room has other "kind" fields (the log's)
    if not form.is_valid():
        messages.error(request, _("Choose a kind of crisis."))
        return redirect(incident)
    _result, ok = call_service(request, services.apply_playbook, incident, kind=form.cleaned_data["kind"])
    if ok:
        messages.success(request, _("The playbook's checklist is on."))
    return redirect(incident)


@login_required
@require_POST
def checklist_tick(request, pk: int, item: int):
    incident = get_visible(request, Incident.objects.select_related("unit"), pk)
    row = get_for(request, ChecklistItem.objects.filter(incident=incident).select_related("incident__unit"), item,
                  services.PERM_TICK, unit=lambda obj: obj.incident.unit)
    form = TickForm(request.POST)
    form.is_valid()
    _result, ok = call_service(request, services.tick_item, row, done=form.cleaned_data.get("done", False))
    if ok:
        messages.success(request, _("Checklist updated."))
    return redirect(incident)


@login_required
@require_POST
def incident_stakeholders(request, pk: int):
    incident = get_for(request, Incident.objects.select_related("unit"), pk, PERM_CHANGE)
    form = StakeholderForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(incident)
    _result, ok = call_service(request, services.send_stakeholder_update, incident, **form.cleaned_data)
    if ok:
        messages.success(request, _("Stakeholder update sent."))
    return redirect(incident)


# --- playbooks -------------------------------------------------------------------------------------------------------

@login_required
@require_GET
def playbook_list(request):
    require(request.user, "crisis.view_playbook")
    qs = Playbook.objects.restrict(request.user, "view").select_related("unit")
    return render(request, "crisis/playbook_list.html", {
        "page": paginate(request, qs), "can_add": has_perm(request.user, services.PERM_ADD_PLAYBOOK)})


@login_required
@require_http_methods(["GET", "POST"])
def playbook_create(request):
    require(request.user, services.PERM_ADD_PLAYBOOK)
    form = PlaybookForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        _playbook, ok = call_service(request, services.create_playbook, form=form, **form.cleaned_data)
        if ok:
            messages.success(request, _("Playbook saved."))
            return redirect("crisis:playbook-list")
    return render(request, "crisis/playbook_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def playbook_edit(request, pk: int):
    playbook = get_for(request, Playbook.objects.select_related("unit"), pk, services.PERM_CHANGE_PLAYBOOK)
    initial = {"unit": playbook.unit, "name": playbook.name, "kind": playbook.kind,
               "min_severity": playbook.min_severity, "steps": steps_to_text(playbook.steps),
               "holding_statement": playbook.holding_statement, "is_active": playbook.is_active}
    form = PlaybookForm(request.POST or None, initial=initial, user=request.user,
                        perm=services.PERM_CHANGE_PLAYBOOK)
    form.fields["unit"].disabled = True  # a playbook stays where it was defined
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "unit"}
        _playbook, ok = call_service(request, services.update_playbook, playbook, form=form, **data)
        if ok:
            messages.success(request, _("Playbook saved."))
            return redirect("crisis:playbook-list")
    return render(request, "crisis/playbook_form.html", {"form": form, "playbook": playbook},
                  status=400 if form.errors else 200)
