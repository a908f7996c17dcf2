"""Pages of the organisation: the tree with roll-ups, units, teams, memberships and guidelines.

Reads go through ``restrict()`` (404 outside the viewer's scope); writes go through ``orgs.services`` (403 when
the object is visible but the action is not allowed). External moderators see nothing of the organisation but
the guidelines.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dandelion.core.permissions import has_perm, is_team_scoped_only
from dandelion.core.plugins import unit_page_sources
from dandelion.core.view_helpers import (
    call_service,
    confirm_then_act,
    get_visible,
    paginate,
    render_page_or_partial,
    require,
)
from dandelion.orgs import forms, services
from dandelion.orgs.filters import GuidelineFilter, MembershipFilter, TeamFilter
from dandelion.orgs.models import Guideline, Membership, OrgUnit, Team
from dandelion.orgs.rendering import render_markdown
from dandelion.orgs.reports import build_rollup, pending_acknowledgements


# --- plumbing ------------------------------------------------------------------------------------------------
def org_member_required(view):
    """Signed in, and not an external moderator (they work in their queue and see nothing of the organisation)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if is_team_scoped_only(request.user):
            raise PermissionDenied(_("External moderators work from their queue."))
        return view(request, *args, **kwargs)

    return wrapper


def _formpaginate(request, form, *, title, cancel_url, submit=None, intro="", status=None):
    return render(
        request,
        "orgs/form.html",
        {"form": form, "title": title, "cancel_url": cancel_url, "submit": submit or _("Save"), "intro": intro},
        status=status or (400 if form.is_bound and form.errors else 200),
    )


# --- tree and units ------------------------------------------------------------------------------------------
@login_required
def tree(request):
    """The tree the viewer may see, each unit with accounts, members, teams and pending issues rolled up over its
    subtree (constant number of queries)."""
    if is_team_scoped_only(request.user):
        try:
            return redirect(reverse("inbox:queue"))
        except NoReverseMatch:
            raise PermissionDenied(_("External moderators work from their queue.")) from None
    include_inactive = request.GET.get("inactive") == "1"
    rollup = build_rollup(request.user, include_inactive=include_inactive)
    return render_page_or_partial(
        request,
        "orgs/tree.html",
        "orgs/partials/_tree.html",
        {"rollup": rollup, "include_inactive": include_inactive},
    )


@org_member_required
def unit_detail(request, pk: int):
    unit = get_visible(request, OrgUnit, pk)
    user = request.user
    rollup = build_rollup(user, within=unit, include_inactive=True)
    node = rollup.nodes[unit.pk]
    members_qs = (
        Membership.objects.restrict(user, "view")
        .filter(unit__path__startswith=unit.path)
        .select_related("user", "unit", "team")
        .order_by("unit__path", "user__username", "role")
    )
    if request.GET.get("subtree") != "1":
        members_qs = members_qs.filter(unit=unit)
    member_filter = MembershipFilter(request.GET, queryset=members_qs, request=request)
    members_page = paginate(request, member_filter.qs)
    context = {"unit": unit, "members_page": members_page, "member_filter": member_filter}
    if request.htmx and not request.htmx.boosted:
        return render(request, "orgs/partials/_members_table.html", context)
    panels: list[str] = []
    for source in unit_page_sources():  # what other apps show on a unit's page (the registry's accounts, sign-in)
        extra = dict(source(user, unit))
        panels.extend(extra.pop("unit_panels", ()))  # templates an app adds to the page's side column
        context.update(extra)
    context["unit_panels"] = panels
    context.update(
        {
            "node": node,
            "current_guideline": rollup.current_guideline,
            "ancestors": OrgUnit.objects.restrict(user, "view").filter(
                pk__in=[a for a in unit.path.strip("/").split("/")][:-1]
            ).order_by("depth"),
            "teams": unit.teams.annotate(
                active_members=Count("memberships", filter=Q(memberships__is_active=True))
            ).order_by("-is_active", "name"),
            "can_add_unit": has_perm(user, "orgs.add_orgunit", unit),
            "can_change_unit": has_perm(user, "orgs.change_orgunit", unit),
            "can_manage_unit": unit.parent_id is not None and has_perm(user, "orgs.change_orgunit", unit.parent),
            "can_add_team": has_perm(user, "orgs.add_team", unit),
            "can_manage_members": has_perm(user, "orgs.manage_members", unit),
        }
    )
    return render(request, "orgs/unit_detail.html", context)


@org_member_required
def unit_create(request, pk: int):
    """A new child unit of ``pk``."""
    parent = get_visible(request, OrgUnit, pk)
    require(request.user, "orgs.add_orgunit", parent)
    form = forms.UnitForm(request.POST or None, initial={"timezone": parent.timezone})
    if request.method == "POST" and form.is_valid():
        unit, ok = call_service(request, services.create_unit, form=form, parent=parent, **form.cleaned_data)
        if ok:
            messages.success(request, _("Unit %(unit)s created.") % {"unit": unit.name})
            return redirect(unit)
    return _formpaginate(request, form, title=_("New unit under %(parent)s") % {"parent": parent.name}, cancel_url=parent.get_absolute_url(),
                      submit=_("Create unit"))


@org_member_required
def unit_edit(request, pk: int):
    unit = get_visible(request, OrgUnit, pk)
    require(request.user, "orgs.change_orgunit", unit)
    initial = {f: getattr(unit, f) for f in ("name", "slug", "kind", "country", "languages", "timezone")}
    form = forms.UnitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["slug"] = data["slug"] or unit.slug
        _result, ok = call_service(request, services.update_unit, form=form, unit=unit, **data)
        if ok:
            messages.success(request, _("Unit %(unit)s saved.") % {"unit": unit.name})
            return redirect(unit)
    return _formpaginate(request, form, title=_("Edit %(unit)s") % {"unit": unit.name}, cancel_url=unit.get_absolute_url())


@org_member_required
def unit_move(request, pk: int):
    unit = get_visible(request, OrgUnit, pk)
    if unit.parent_id is None:
        raise PermissionDenied(_("The root unit cannot be moved."))
    require(request.user, "orgs.change_orgunit", unit.parent)
    form = forms.MoveUnitForm(request.POST or None, user=request.user, unit=unit)
    if request.method == "POST" and form.is_valid():
        _result, ok = call_service(request, services.move_unit, form=form, unit=unit, new_parent=form.cleaned_data["parent"])
        if ok:
            messages.success(request, _("%(unit)s moved under %(parent)s.") % {
                "unit": unit.name, "parent": form.cleaned_data["parent"].name})
            return redirect(unit)
    return _formpaginate(request, form, title=_("Move %(unit)s") % {"unit": unit.name}, cancel_url=unit.get_absolute_url(), submit=_("Move"),
                      intro=f"{unit.name} and all its sub-units move together. Currently under {unit.parent}.")


@org_member_required
@require_http_methods(["GET", "POST"])
def unit_deactivate(request, pk: int):
    """Deactivate (asked first: its accounts and teams stop receiving work) or, with ``activate=1``, reactivate."""
    unit = get_visible(request, OrgUnit, pk)
    if request.method == "GET":  # asking is for those who may (the service checks the POST)
        if unit.parent is None:
            raise PermissionDenied(_("The root unit (the hub) cannot be deactivated."))
        require(request.user, "orgs.change_orgunit", unit.parent)

    def act():
        service = services.reactivate_unit if request.POST.get("activate") == "1" else services.deactivate_unit
        _result, ok = call_service(request, service, unit=unit)
        if ok:
            messages.success(request, (_("%(unit)s reactivated.") if unit.is_active else _("%(unit)s deactivated."))
                             % {"unit": unit.name})
        return redirect(unit)

    return confirm_then_act(
        request, act=act, title=_("Deactivate %(name)s") % {"name": unit.name},
        question=_("Deactivate %(name)s and its whole subtree? Its people lose the roles granted there until it "
                   "is reactivated.") % {"name": unit.name},
        confirm_label=_("Deactivate"), cancel_url=unit.get_absolute_url())


# --- teams ---------------------------------------------------------------------------------------------------
@org_member_required
def team_list(request):
    qs = Team.objects.restrict(request.user, "view").select_related("unit").annotate(
        active_members=Count("memberships", filter=Q(memberships__is_active=True))
    ).order_by("unit__path", "name")
    team_filter = TeamFilter(request.GET, queryset=qs, request=request)
    return render_page_or_partial(
        request, "orgs/team_list.html", "orgs/partials/_team_table.html",
        {"filter": team_filter, "page": paginate(request, team_filter.qs)},
    )


@org_member_required
def team_detail(request, pk: int):
    team = get_object_or_404(Team.objects.restrict(request.user, "view").select_related("unit"), pk=pk)
    members_qs = (
        Membership.objects.restrict(request.user, "view").filter(team=team).select_related("user", "unit", "team")
        .order_by("-is_active", "user__username")
    )
    member_filter = MembershipFilter(request.GET, queryset=members_qs, request=request)
    context = {
        "team": team,
        "unit": team.unit,
        "members_page": paginate(request, member_filter.qs),
        "member_filter": member_filter,
        "can_change_team": has_perm(request.user, "orgs.change_team", team.unit),
        "can_manage_members": has_perm(request.user, "orgs.manage_members", team.unit),
    }
    return render_page_or_partial(request, "orgs/team_detail.html", "orgs/partials/_members_table.html", context)


@org_member_required
def team_create(request, pk: int):
    unit = get_visible(request, OrgUnit, pk)
    require(request.user, "orgs.add_team", unit)
    form = forms.TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team, ok = call_service(request, services.create_team, form=form, unit=unit, **form.cleaned_data)
        if ok:
            messages.success(request, _("Team %(team)s created.") % {"team": team.name})
            return redirect(team)
    return _formpaginate(request, form, title=_("New team in %(unit)s") % {"unit": unit.name}, cancel_url=unit.get_absolute_url(),
                      submit=_("Create team"))


@org_member_required
def team_edit(request, pk: int):
    team = get_object_or_404(Team.objects.restrict(request.user, "view").select_related("unit"), pk=pk)
    require(request.user, "orgs.change_team", team.unit)
    initial = {f: getattr(team, f) for f in ("name", "kind", "languages", "timezone", "email")}
    form = forms.TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        _result, ok = call_service(request, services.update_team, form=form, team=team, **form.cleaned_data)
        if ok:
            messages.success(request, _("Team %(team)s saved.") % {"team": team.name})
            return redirect(team)
    return _formpaginate(request, form, title=_("Edit %(team)s") % {"team": team.name}, cancel_url=team.get_absolute_url())


@org_member_required
@require_http_methods(["GET", "POST"])
def team_deactivate(request, pk: int):
    """Deactivate (asked first) or, with ``activate=1``, reactivate a team."""
    team = get_visible(request, Team.objects.select_related("unit"), pk)
    if request.method == "GET":
        require(request.user, "orgs.change_team", team.unit)

    def act():
        service = services.reactivate_team if request.POST.get("activate") == "1" else services.deactivate_team
        _result, ok = call_service(request, service, team=team)
        if ok:
            messages.success(request, (_("%(team)s reactivated.") if team.is_active else _("%(team)s deactivated."))
                             % {"team": team.name})
        return redirect(team)

    return confirm_then_act(
        request, act=act, title=_("Deactivate %(name)s") % {"name": team.name},
        question=_("Deactivate the team %(name)s? Conversations are no longer routed to it.") % {"name": team.name},
        confirm_label=_("Deactivate"), cancel_url=team.get_absolute_url())


# --- memberships ---------------------------------------------------------------------------------------------
@org_member_required
def membership_list(request):
    qs = Membership.objects.restrict(request.user, "view").select_related("user", "unit", "team")
    member_filter = MembershipFilter(request.GET, queryset=qs, request=request)
    return render_page_or_partial(
        request, "orgs/membership_list.html", "orgs/partials/_members_table.html",
        {"member_filter": member_filter, "members_page": paginate(request, member_filter.qs), "show_unit": True},
    )


@org_member_required
def membership_create(request, pk: int):
    """Grant a role on unit ``pk`` to an existing person."""
    unit = get_visible(request, OrgUnit, pk)
    require(request.user, "orgs.manage_members", unit)
    form = forms.MembershipForm(request.POST or None, unit=unit, initial={"team": request.GET.get("team")})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        user = data.pop("person")
        m, ok = call_service(request, services.grant_membership, form=form, unit=unit, user=user, **data)
        if ok:
            messages.success(request, _("%(membership)s granted.") % {"membership": m})
            return redirect(unit)
    return _formpaginate(request, form, title=_("Grant a role on %(unit)s") % {"unit": unit.name}, cancel_url=unit.get_absolute_url(),
                      submit=_("Grant role"), intro=_("The role covers this unit and all its sub-units."))


@org_member_required
def member_invite(request, pk: int):
    """Create an account for a new person and grant them a role on unit ``pk``."""
    unit = get_visible(request, OrgUnit, pk)
    require(request.user, "orgs.manage_members", unit)
    form = forms.InviteForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        m, ok = call_service(request, services.invite_member, form=form, unit=unit, **form.cleaned_data)
        if ok:
            _report_invitation(request, m)
            return redirect(unit)
    return _formpaginate(request, form, title=_("Invite a new person to %(unit)s") % {"unit": unit.name}, cancel_url=unit.get_absolute_url(),
                      submit=_("Invite"))


def _report_invitation(request, m: Membership) -> None:
    """Say whether the invitation e-mail left (``invitation_sent`` is set by the service once it commits)."""
    sent = getattr(m, "invitation_sent", None)
    name, email = m.user.get_username(), m.user.email
    if sent is False:
        messages.warning(request, _("%(name)s was invited, but the e-mail to %(email)s could not be sent: check the "
                                    "mail settings, then use “Resend invitation”.") % {"name": name, "email": email})
    else:
        messages.success(request, _("%(name)s invited: an e-mail with a link to choose a password went to "
                                    "%(email)s.") % {"name": name, "email": email})


@org_member_required
@require_POST
def membership_resend_invitation(request, pk: int):
    """E-mail a fresh invitation link to a person who has not set a password yet (earlier links stop working)."""
    m = _visible_membership(request, pk)
    resent, ok = call_service(request, services.resend_invitation, membership=m)
    if ok:
        _report_invitation(request, resent)
    return redirect(request.POST.get("next") if _safe_next(request) else m.unit.get_absolute_url())


def _visible_membership(request, pk) -> Membership:
    return get_visible(request, Membership.objects.select_related("user", "unit", "team"), pk)


@org_member_required
def membership_edit(request, pk: int):
    m = _visible_membership(request, pk)
    require(request.user, "orgs.manage_members", m.unit)
    initial = {"role": m.role, "team": m.team_id, "is_available": m.is_available, "capacity": m.capacity}
    form = forms.MembershipEditForm(request.POST or None, unit=m.unit, initial=initial)
    if request.method == "POST" and form.is_valid():
        _result, ok = call_service(request, services.update_membership, form=form, membership=m, **form.cleaned_data)
        if ok:
            messages.success(request, _("%(membership)s saved.") % {"membership": m})
            return redirect(m.unit)
    return _formpaginate(request, form, title=_("Edit %(membership)s") % {"membership": m}, cancel_url=m.unit.get_absolute_url())


@org_member_required
@require_http_methods(["GET", "POST"])
def membership_revoke(request, pk: int):
    m = _visible_membership(request, pk)
    if request.method == "GET":
        require(request.user, "orgs.manage_members", m.unit)

    def act():
        _result, ok = call_service(request, services.revoke_membership, membership=m)
        if ok:
            messages.success(request, _("%(membership)s revoked.") % {"membership": m})
        return redirect(request.POST.get("next") if _safe_next(request) else m.unit.get_absolute_url())

    return confirm_then_act(request, act=act, title=_("Revoke %(membership)s") % {"membership": m},
                            question=_("Revoke %(m)s? The person loses this role at once.") % {"m": m},
                            confirm_label=_("Revoke"), cancel_url=m.unit.get_absolute_url())


@org_member_required
@require_http_methods(["GET", "POST"])
def person_deactivate(request, pk: int):
    """A leaver, by hand: the person of membership ``pk`` is deactivated (every session and API token ends, the
    accounts they own are flagged "owner left" on the registry). Needs the right to manage members on every unit
    where they hold a role."""
    m = _visible_membership(request, pk)
    person = m.user
    if request.method == "GET":
        require(request.user, "orgs.manage_members", m.unit)

    def act():
        _person, ok = call_service(request, services.deactivate_person, user=person,
                                   reason=request.POST.get("reason", "")[:200])
        if ok:
            messages.success(request, _("%(name)s is deactivated.") % {"name": person.get_username()})
        return redirect(m.unit.get_absolute_url())

    name = person.get_full_name() or person.get_username()
    return confirm_then_act(
        request, act=act, title=_("Deactivate %(name)s") % {"name": name},
        question=_("Deactivate %(name)s? Their sessions and API tokens end at once, they can no longer sign in, and "
                   "every social account they own is flagged for transfer.") % {"name": name},
        confirm_label=_("Deactivate"), cancel_url=m.unit.get_absolute_url())


def _safe_next(request) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    nxt = request.POST.get("next")
    return bool(nxt) and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()})


# --- guidelines ----------------------------------------------------------------------------------------------
def _guidelines_for(user):
    """Published versions for everyone; drafts too for those who may edit them (the hub)."""
    qs = Guideline.objects.restrict(user, "view")
    if not has_perm(user, "orgs.change_guideline", services.root_unit()):
        qs = qs.filter(published_at__isnull=False)
    return qs


@login_required
def guideline_list(request):
    qs = _guidelines_for(request.user).select_related("published_by")
    gfilter = GuidelineFilter(request.GET, queryset=qs, request=request)
    root = services.root_unit()
    return render_page_or_partial(
        request, "orgs/guideline_list.html", "orgs/partials/_guideline_table.html",
        {
            "filter": gfilter,
            "page": paginate(request, gfilter.qs),
            "current": Guideline.current(),
            "can_draft": has_perm(request.user, "orgs.add_guideline", root),
        },
    )


@login_required
def guideline_detail(request, pk: int):
    guideline = get_object_or_404(_guidelines_for(request.user), pk=pk)
    root = services.root_unit()
    current = Guideline.current()
    return render(
        request,
        "orgs/guideline_detail.html",
        {
            "guideline": guideline,
            "body_html": render_markdown(guideline.body),
            "is_current": current is not None and current.pk == guideline.pk,
            "acknowledged": guideline.acknowledgements.filter(user=request.user).first(),
            "can_edit": not guideline.is_published and has_perm(request.user, "orgs.change_guideline", root),
            "can_publish": not guideline.is_published and has_perm(request.user, "orgs.publish_guideline", root),
            "can_report": guideline.is_published and has_perm(request.user, "orgs.manage_members"),
        },
    )


@org_member_required
def guideline_create(request):
    root = services.root_unit()
    require(request.user, "orgs.add_guideline", root)
    current = Guideline.current()
    initial = {"title": current.title, "body": current.body} if current else {}
    form = forms.GuidelineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        g, ok = call_service(request, services.create_guideline, form=form, **form.cleaned_data)
        if ok:
            messages.success(request, _("Draft saved. Publish it when it is ready."))
            return redirect(g)
    return _formpaginate(request, form, title=_("New guideline version"), cancel_url=reverse("orgs:guideline-list"),
                      submit=_("Save draft"), intro=_("Starts from the current version. Nobody sees a draft but the hub."))


@org_member_required
def guideline_edit(request, pk: int):
    guideline = get_object_or_404(_guidelines_for(request.user), pk=pk)
    require(request.user, "orgs.change_guideline", services.root_unit())
    if guideline.is_published:
        messages.error(request, _("Published versions are frozen: draft a new version instead."))
        return redirect(guideline)
    initial = {"title": guideline.title, "body": guideline.body, "change_summary": guideline.change_summary}
    form = forms.GuidelineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        _result, ok = call_service(request, services.update_guideline, form=form, guideline=guideline, **form.cleaned_data)
        if ok:
            messages.success(request, _("Draft saved."))
            return redirect(guideline)
    return _formpaginate(request, form, title=_("Edit %(guideline)s") % {"guideline": guideline}, cancel_url=guideline.get_absolute_url())


@org_member_required
@require_POST
def guideline_publish(request, pk: int):
    guideline = get_object_or_404(_guidelines_for(request.user), pk=pk)
    g, ok = call_service(request, services.publish_guideline, guideline=guideline)
    if ok:
        messages.success(request, _("%(guideline)s published: everybody is asked to acknowledge it.") % {"guideline": g})
    return redirect(guideline)


@org_member_required
@require_http_methods(["GET", "POST"])
def guideline_discard(request, pk: int):
    guideline = get_object_or_404(_guidelines_for(request.user), pk=pk)
    if request.method == "GET":
        require(request.user, "orgs.delete_guideline", services.root_unit())

    def act():
        _result, ok = call_service(request, services.discard_guideline, guideline=guideline)
        if ok:
            messages.success(request, _("Draft discarded."))
            return redirect("orgs:guideline-list")
        return redirect(guideline)

    return confirm_then_act(request, act=act, title=_("Discard this draft"),
                            question=_("Discard the draft “%(title)s”? Its text is lost.") % {"title": guideline.title},
                            confirm_label=_("Discard"), cancel_url=guideline.get_absolute_url())


@login_required
@require_POST
def guideline_acknowledge(request, pk: int):
    guideline = get_object_or_404(_guidelines_for(request.user), pk=pk)
    _result, ok = call_service(request, services.acknowledge_guideline, guideline=guideline)
    if ok:
        messages.success(request, _("Thank you: you acknowledged %(guideline)s.") % {"guideline": guideline})
    if request.htmx:
        return render(request, "orgs/partials/_acknowledge.html",
                      {"guideline": guideline, "acknowledged": guideline.acknowledgements.filter(
                          user=request.user).first(), "is_current": True})
    return redirect(guideline)


@org_member_required
def guideline_report(request, pk: int):
    """Who, within the viewer's scope, has not acknowledged this version (hub: everyone; spoke admin: subtree)."""
    guideline = get_object_or_404(Guideline.objects.restrict(request.user, "view"), pk=pk,
                                  published_at__isnull=False)
    require(request.user, "orgs.manage_members")
    within = None
    unit_id = request.GET.get("unit", "")
    if unit_id:
        if not unit_id.isdigit():
            raise Http404(_("No such unit."))
        within = get_object_or_404(OrgUnit.objects.restrict(request.user, "view"), pk=int(unit_id))
    pending, people = pending_acknowledgements(request.user, guideline, within=within)
    total = people.count()
    scoped = (Membership.objects.restrict(request.user, "orgs.manage_members").filter(is_active=True)
              .select_related("unit", "team"))
    page = paginate(request, pending.prefetch_related(Prefetch("memberships", queryset=scoped, to_attr="scoped")))
    waiting = page.paginator.count
    return render_page_or_partial(
        request, "orgs/guideline_report.html", "orgs/partials/_ack_report_table.html",
        {
            "guideline": guideline,
            "page": page,
            "within": within,
            "total": total,
            "pending_count": waiting,
            "acknowledged_count": total - waiting,
            "units": OrgUnit.objects.restrict(request.user, "orgs.manage_members").filter(is_active=True),
        },
    )
