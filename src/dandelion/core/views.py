"""Home, health check and the audit log browser."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dandelion.core import i18n
from dandelion.core.exceptions import DandelionError
from dandelion.core.filters import AuditEventFilter
from dandelion.core.forms import ProfileForm
from dandelion.core.htmx import render_page_or_partial
from dandelion.core.models import AuditEvent, UserProfile, WorkerHeartbeat
from dandelion.core.paging import BoundedPaginator
from dandelion.core.permissions import get_grants, is_team_scoped_only

WORKER_STALE_AFTER = dt.timedelta(seconds=60)


@login_required
def home(request):
    """Send each person where their work is: people who work in a team (helper agents, external moderators) to
    their queue, others to the org tree."""
    works_in_a_team = any(g.team_id for g in get_grants(request.user))
    first = ("inbox:queue",) if is_team_scoped_only(request.user) or works_in_a_team else ("orgs:tree", "inbox:queue")
    for name in first:
        try:
            return redirect(reverse(name))
        except NoReverseMatch:
            continue
    return render(request, "core/home.html")


@require_GET
def healthz(request):
    """Database reachability and worker liveness, as JSON (503 when the database is down)."""
    body: dict = {"status": "ok", "version": __import__("dandelion").__version__}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        body["database"] = {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        body["status"] = "error"
        body["database"] = {"status": "error", "error": exc.__class__.__name__}
        return JsonResponse(body, status=503)
    now = timezone.now()
    beats = list(WorkerHeartbeat.objects.filter(last_seen_at__gte=now - WORKER_STALE_AFTER))
    body["worker"] = {
        "status": "ok" if beats else "down",
        "alive": len(beats),
        "backend": settings.DANDELION_TASK_BACKEND,
        "last_seen_at": max((b.last_seen_at for b in beats), default=None),
    }
    if not beats:
        body["status"] = "degraded"
    body["inbound"] = _inbound_backlog(now)
    return JsonResponse(body)


def _inbound_backlog(now) -> dict:
    """Stored webhook deliveries not yet processed, the age of the oldest, and those that failed for good: what an
    operator watches to know that nothing inbound is stuck or lost."""
    from django.apps import apps
    from django.db.models import Count, Min, Q

    delivery = apps.get_model("inbox", "InboundDelivery")
    # brand answers waiting for their customer message (inbox.jobs.echo_waits) are not a backlog until due
    waiting = Q(state="pending", source="echo-wait", next_attempt_at__gt=now)
    open_ = Q(state__in=("pending", "processing")) & ~waiting
    row = delivery.objects.aggregate(
        backlog=Count("id", filter=open_),
        failed=Count("id", filter=Q(state="failed")),
        answers_waiting_for_their_message=Count("id", filter=waiting),
        oldest=Min("received_at", filter=open_),
    )
    oldest = row.pop("oldest")
    row["oldest_backlog_seconds"] = round((now - oldest).total_seconds(), 1) if oldest else 0.0
    return row


@login_required
def audit_list(request):
    """The audit log within the viewer's scope, filterable by actor, action, object type, unit and date."""
    if is_team_scoped_only(request.user):  # a typed address outside the role's world: say so, no empty page
        raise PermissionDenied(_("The audit log is not part of your role: your work is in your team's queue."))
    qs = AuditEvent.objects.restrict(request.user, "view").select_related("unit", "content_type")
    filterset = AuditEventFilter(request.GET, queryset=qs, request=request)
    _units_by_name(filterset.form.fields["unit"], request.user)
    page = BoundedPaginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render_page_or_partial(
        request,
        "core/audit_list.html",
        "core/partials/_audit_table.html",
        {"filter": filterset, "page": page},
    )


def _units_by_name(field, user) -> None:
    """The audit page's unit filter picks a unit by name among those the viewer sees (the value stays the unit's
    id, as in the API); at most 500, in tree order."""
    from typing import Any

    from django import forms

    manager: Any = AuditEvent._meta.get_field("unit").related_model._default_manager  # the org tree's units
    units = manager.restrict(user, "view")
    choices = list(units.order_by("path").values_list("pk", "name")[:500])
    field.widget = forms.Select(choices=[("", _("any unit")), *choices])


@login_required
def audit_detail(request, pk: int):
    event = get_object_or_404(AuditEvent.objects.restrict(request.user, "view"), pk=pk)
    return render(request, "core/audit_detail.html", {"event": event})


@login_required
def profile(request):
    """The signed-in person's language and time zone."""
    current = UserProfile.objects.filter(user=request.user).first()
    initial = {"language": current.language if current else "", "time_zone": current.time_zone if current else ""}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        from dandelion.core.services import update_profile

        try:
            saved = update_profile(actor=request.user, user=request.user, language=form.cleaned_data["language"],
                                   time_zone=form.cleaned_data["time_zone"])
        except DandelionError as exc:
            form.add_error(exc.field, exc.message)
        else:
            i18n.remember_preferences(request.session, language=saved.language, time_zone=saved.time_zone)
            if saved.language:
                translation.activate(saved.language)  # the confirmation in the language just chosen
            messages.success(request, _("Your profile was saved."))
            return redirect("core:profile")
    return render(request, "core/profile.html", {"form": form})
