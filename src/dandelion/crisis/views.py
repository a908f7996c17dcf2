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
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dandelion.core.permissions import has_perm
from dandelion.core.plugins import incident_page_sources
from dandelion.core.view_helpers import call_service, get_for, get_visible, paginate, require
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
        "log_form": LogForm(), "join_form": JoinForm(), "owner_form": OwnerForm(incident=incident),
        "status_form": StatusForm(initial={"status": incident.status}),
        "severity_form": SeverityForm(initial={"severity": incident.severity}), "pause_form": PauseForm(),
        "statement_form": StatementForm(initial={"holding_statement": incident.holding_statement}),
    })


def _act(request, pk: int, form_class, service, success: str, **form_kwargs):
    incident = get_for(request, Incident.objects.select_related("unit"), pk, PERM_CHANGE)
    form = form_class(request.POST, **form_kwargs(incident) if callable(form_kwargs) else {})
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(incident)
    _result, ok = call_service(request, service, incident, **form.cleaned_data)
    if ok:
        messages.success(request, success)
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
