"""Routing UI: the ordered rule list (HTMX reorder), the rule editor with live validation and preview, and the
SLA policies / business calendars overview."""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dandelion.core.exceptions import DandelionError
from dandelion.core.permissions import has_perm
from dandelion.core.view_helpers import (
    call_service,
    confirm_then_act,
    get_for,
    render_page_or_partial,
    require,
)
from dandelion.routing import services
from dandelion.routing.conditions import ACTIONS, FIELDS, describe_actions, describe_conditions
from dandelion.routing.forms import RoutingRuleForm, SlaPolicyForm, manageable_units, to_builder
from dandelion.routing.models import AssignmentPolicy, BusinessCalendar, RoutingRule, SlaPolicy


def _require_view(user, perm: str = "routing.view_routingrule") -> None:
    require(user, perm, message=_("You may not see routing."))


def _rule_rows(user):
    from dandelion.orgs.models import Team

    rules = list(RoutingRule.objects.restrict(user, "view").select_related("unit", "created_by")
                 .order_by("unit__depth", "unit__path", "position", "id"))
    team_ids = {r.actions.get("route_to_team") for r in rules if isinstance(r.actions, dict)}
    names = dict(Team.objects.filter(pk__in=[t for t in team_ids if t]).values_list("id", "name"))
    rows = []
    for rule in rules:
        rows.append({"rule": rule, "when": describe_conditions(rule.conditions or {}),
                     "then": describe_actions(rule.actions or {}, names),
                     "can_change": has_perm(user, "routing.change_routingrule", rule.unit)})
    return [(unit, list(items)) for unit, items in groupby(rows, key=lambda r: r["rule"].unit)]


@login_required
def rule_list(request):
    """Rules within the viewer's scope, grouped by unit in evaluation order (hub first)."""
    _require_view(request.user)
    return render_page_or_partial(request, "routing/rule_list.html", "routing/partials/_rule_table.html", {
        "groups": _rule_rows(request.user), "can_add": bool(manageable_units(request.user))})


@login_required
@require_POST
def rule_move(request, pk: int):
    rule = get_for(request, RoutingRule, pk, "routing.change_routingrule")
    services.move_routing_rule(rule, actor=request.user, direction=request.POST.get("direction", ""))
    if request.htmx:
        return render(request, "routing/partials/_rule_table.html", {"groups": _rule_rows(request.user)})
    return redirect("routing:rule-list")


@login_required
@require_http_methods(["GET", "POST"])
def rule_delete(request, pk: int):
    """Delete a rule, asked first (GET: the confirmation page)."""
    rule = get_for(request, RoutingRule, pk, "routing.delete_routingrule")

    def act():
        _result, ok = call_service(request, services.delete_routing_rule, rule)
        if ok:
            messages.success(request, _("Deleted rule “%(name)s”.") % {"name": rule.name})
        return redirect("routing:rule-list")

    return confirm_then_act(request, act=act, title=_("Delete rule %(name)s") % {"name": rule.name},
                            question=_("Delete the routing rule “%(name)s”? Conversations are no longer routed by "
                                       "it.") % {"name": rule.name},
                            confirm_label=_("Delete"), cancel_url=reverse("routing:rule-list"))


def _editor(request, rule: RoutingRule | None):
    can_change = rule is None or has_perm(request.user, "routing.change_routingrule", rule.unit)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = RoutingRuleForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.service_data()
            try:
                if rule is None:
                    rule = services.create_routing_rule(actor=request.user, **data)
                    messages.success(request, _("Created rule “%(name)s”.") % {"name": rule.name})
                else:
                    services.update_routing_rule(rule, actor=request.user, **data)
                    messages.success(request, _("Saved rule “%(name)s”.") % {"name": rule.name})
                return redirect("routing:rule-list")
            except DandelionError as exc:
                form.add_error(None, exc.message)
        status = 400
    else:
        initial = {"is_active": True, "mode": "builder"}
        if rule is not None:
            initial = {"unit": rule.unit_id, "name": rule.name, "conditions": rule.conditions,
                       "actions": rule.actions, "stop_processing": rule.stop_processing, "is_active": rule.is_active}
            builder = to_builder(rule.conditions or {}, rule.actions or {})
            initial["mode"] = "json" if builder is None else "builder"
            initial.update(builder or {})
        form = RoutingRuleForm(initial=initial, user=request.user)
        status = 200
    if rule is not None and not can_change:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "routing/rule_form.html", {
        "form": form, "rule": rule, "can_change": can_change, "fields_help": FIELDS, "actions_help": ACTIONS,
    }, status=status)


@login_required
def rule_create(request):
    if not manageable_units(request.user):
        raise PermissionDenied(_("You may not create routing rules."))
    return _editor(request, None)


@login_required
def rule_edit(request, pk: int):
    _require_view(request.user)
    rule = get_object_or_404(RoutingRule.objects.restrict(request.user, "view").select_related("unit"), pk=pk)
    return _editor(request, rule)


@login_required
def rule_preview(request):
    """HTMX partial: validation errors and what the (unsaved) rule would do to recent inbound messages.
    POST: the editor's fields; GET ``?rule=<id>``: a saved rule."""
    _require_view(request.user)
    if request.method == "POST":
        form = RoutingRuleForm(request.POST, user=request.user)
        form.is_valid()
        data = form.cleaned_data
        rule_data = {"unit": data.get("unit"), "conditions": data.get("conditions") or {},
                     "actions": data.get("actions") or {}}
        # a missing unit or name must not stop the preview; only condition/action errors do
        errors = [e for name in ("conditions", "actions") for e in form.errors.get(name, [])]
    else:
        rule = get_object_or_404(RoutingRule.objects.restrict(request.user, "view"), pk=request.GET.get("rule"))
        rule_data = {"unit": rule.unit, "conditions": rule.conditions, "actions": rule.actions}
        errors = []
    result = {"errors": [], "rows": [], "evaluated": 0, "matched": 0}
    if not errors:
        result = services.preview_rule(rule_data, actor=request.user, limit=50)
        errors = [f"{e['path']}: {e['message']}" for e in result["errors"]]
    return render(request, "routing/partials/_preview.html", {"result": result, "errors": errors})


@login_required
def sla_list(request):
    """SLA policies, assignment policies and business calendars within the viewer's scope."""
    _require_view(request.user, "routing.view_slapolicy")
    policies = SlaPolicy.objects.restrict(request.user, "view").select_related("team__unit")
    calendars = BusinessCalendar.objects.restrict(request.user, "view").select_related("unit", "team") \
        .prefetch_related("holidays")
    assignment = AssignmentPolicy.objects.restrict(request.user, "view").select_related("team__unit",
                                                                                        "last_assigned")
    return render(request, "routing/sla_list.html", {
        "policies": policies, "calendars": calendars, "assignment_policies": assignment,
        "api_url": reverse("api:slapolicy-list"),
        "can_add_sla": _sla_teams(request.user, "routing.add_slapolicy").exists(),
    })


def _sla_teams(user, perm: str):
    """Teams on whose unit ``user`` may ``perm`` SLA policies."""
    from dandelion.orgs.models import Team

    teams = Team.objects.restrict(user, "view").filter(is_active=True).select_related("unit").order_by("name")
    return Team.objects.filter(pk__in=[t.pk for t in teams if has_perm(user, perm, t.unit)]).select_related(
        "unit").order_by("name")


def _sla_editor(request, policy: SlaPolicy | None):
    perm = "routing.add_slapolicy" if policy is None else "routing.change_slapolicy"
    teams = _sla_teams(request.user, perm)
    if policy is not None and not has_perm(request.user, perm, policy.team.unit):
        raise PermissionDenied(_("You may not change this SLA policy."))
    if policy is None and not teams.exists():
        raise PermissionDenied(_("You may not create SLA policies."))
    initial = {"is_active": True}
    if policy is not None:
        initial = {"team": policy.team_id, "priority": policy.priority,
                   "first_response_seconds": policy.first_response_seconds,
                   "next_response_seconds": policy.next_response_seconds,
                   "resolution_seconds": policy.resolution_seconds, "business_hours": policy.business_hours,
                   "escalate_priority": (policy.escalation or {}).get("set_priority", ""),
                   "is_active": policy.is_active}
        own = BusinessCalendar.objects.filter(team=policy.team).first()
        if own is not None and not own.is_24_7:
            initial["hours_timezone"] = own.timezone
            initial.update({f"hours_{day}": (own.weekly_hours or {}).get(day, [])
                            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    form = SlaPolicyForm(request.POST or None, teams=teams, initial=initial)
    status = 200
    if request.method == "POST":
        if request.POST.get("delete") and policy is not None:
            services.delete_sla_policy(policy, actor=request.user)
            messages.success(request, _("SLA policy deleted."))
            return redirect("routing:sla-list")
        if form.is_valid():
            try:
                with transaction.atomic():
                    if policy is None:
                        saved = services.create_sla_policy(actor=request.user, **form.service_data())
                    else:
                        saved = services.update_sla_policy(policy, actor=request.user,
                                                           **form.service_data(policy.escalation))
                    hours = form.business_hours_data()
                    if hours is not None:
                        services.set_team_business_hours(saved.team, actor=request.user, **hours)
            except DandelionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("SLA policy saved."))
                return redirect("routing:sla-list")
        status = 400
    return render(request, "routing/sla_form.html", {"form": form, "policy": policy}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sla_create(request):
    return _sla_editor(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def sla_edit(request, pk: int):
    _require_view(request.user, "routing.view_slapolicy")
    policy = get_object_or_404(SlaPolicy.objects.restrict(request.user, "view").select_related("team__unit"), pk=pk)
    return _sla_editor(request, policy)
