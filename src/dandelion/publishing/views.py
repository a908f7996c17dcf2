"""The publishing UI: posts (list, editor with live checks, approval screen), a month calendar, crisis pauses,
and read-only lists of the rules and workflows (written through the API or the admin)."""

from __future__ import annotations

import calendar as cal
import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dandelion.assets.models import SocialAccount
from dandelion.connectors.text_limits import measure
from dandelion.core.exceptions import DandelionError, PermissionDeniedError
from dandelion.core.permissions import has_perm
from dandelion.core.view_helpers import (
    call_service,
    confirm_then_act,
    form_error,
    get_for,
    get_visible,
    paginate,
    render_page_or_partial,
    require,
)
from dandelion.orgs.models import OrgUnit
from dandelion.publishing import campaigns, importing, media, services
from dandelion.publishing import slots as slot_rules
from dandelion.publishing.choices import PostState, Severity
from dandelion.publishing.exceptions import GuidelineBlocked
from dandelion.publishing.forms import (
    CampaignForm,
    CommentForm,
    ImportForm,
    LocaliseForm,
    MediaForm,
    PauseForm,
    PostForm,
    ReasonForm,
    ScheduleForm,
    SettingsForm,
    units_allowing,
)
from dandelion.publishing.models import (
    Campaign,
    CampaignSpoke,
    CrisisPause,
    GuidelineRule,
    Post,
    PostMedia,
    PostVariant,
    PublishingSettings,
    Workflow,
)


def active_pauses_for(user):
    """The active pauses concerning ``user``: on a unit they see, or above one of their units."""
    from dandelion.core.permissions import get_grants

    grant_paths = [g.unit_path for g in get_grants(user)]
    rows = list(CrisisPause.objects.filter(ended_at__isnull=True).select_related("unit"))
    if getattr(user, "is_superuser", False):
        return rows
    return [p for p in rows if any(gp.startswith(p.unit.path) or p.unit.path.startswith(gp) for gp in grant_paths)]


def _base_context(request) -> dict:
    return {"pauses": active_pauses_for(request.user)}


@login_required
def post_list(request):
    require(request.user, "publishing.view_post")
    qs = Post.objects.restrict(request.user, "view").select_related("unit", "author").prefetch_related(
        "variants__account")
    qs, filters = _filtered_posts(request, qs)
    ctx = _base_context(request) | _filter_context(request, filters) | {
        "page": paginate(request, qs), "state": filters.get("state", ""), "states": PostState.choices,
        "can_add": has_perm(request.user, services.PERM_ADD)}
    return render_page_or_partial(request, "publishing/post_list.html", "publishing/partials/_posts.html", ctx)


def _editor_context(request, form, post=None) -> dict:
    return _base_context(request) | {"form": form, "post": post,
                                     "variant_fields": form.variant_fields() if post else []}


@login_required
@require_http_methods(["GET", "POST"])
def post_create(request):
    require(request.user, services.PERM_ADD)
    form = PostForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        post, ok = call_service(request, services.create_post, form=form, unit=data["unit"], text=data["text"],
                                accounts=list(data["accounts"]), title=data["title"],
                                is_sponsored=data["is_sponsored"], scheduled_local=data["scheduled_local"])
        if ok:
            messages.success(request, _("Draft saved."))
            return redirect(post.get_absolute_url())
    return render(request, "publishing/post_form.html", _editor_context(request, form))


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request, pk: int):
    post = get_for(request, Post, pk, services.PERM_CHANGE)
    initial = {"title": post.title, "text": post.text, "is_sponsored": post.is_sponsored,
               "accounts": [v.account_id for v in post.variants.all()],
               "scheduled_local": (services.local_schedule(post).replace(tzinfo=None)
                                   if post.scheduled_at else None)}
    form = PostForm(request.POST or None, user=request.user, post=post, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _post, ok = call_service(request, services.update_post, post, form=form, text=data["text"],
                             title=data["title"], is_sponsored=data["is_sponsored"],
                             accounts=list(data["accounts"]), variant_texts=form.variant_texts(),
                             scheduled_local=data["scheduled_local"],
                             clear_schedule=data["scheduled_local"] is None)
        if ok:
            messages.success(request, _("Saved."))
            return redirect(post.get_absolute_url())
    return render(request, "publishing/post_form.html", _editor_context(request, form, post))


@login_required
@require_POST
def post_check(request):
    """The editor's live panel (HTMX): counts per network and the guideline checks of the unsaved text."""
    require(request.user, services.PERM_ADD)
    ids = [int(x) for x in request.POST.getlist("accounts") if x.isdigit()][:200]
    accounts = list(SocialAccount.objects.restrict(request.user, "view").filter(pk__in=ids)
                    .select_related("owner_unit"))
    unit = None
    unit_id = request.POST.get("unit") or ""
    post_id = request.POST.get("post") or ""
    if post_id.isdigit():
        unit = get_visible(request, Post, int(post_id)).unit
    elif unit_id.isdigit():
        unit = next((u for u in units_allowing(request.user, services.PERM_ADD) if u.pk == int(unit_id)), None)
    if unit is None and accounts:
        unit = accounts[0].owner_unit
    text = request.POST.get("text", "")[:20000]
    variant_texts = {a.pk: request.POST.get(f"variant_{a.pk}", "")[:20000] for a in accounts}
    results = []
    if unit is not None:
        results = services.preview_checks(unit=unit, text=text, accounts=accounts, variant_texts=variant_texts,
                                          is_sponsored=bool(request.POST.get("is_sponsored")))
    counts = [{"account": a, "measure": measure(a.network, variant_texts.get(a.pk) or text)} for a in accounts]
    return render(request, "publishing/partials/_checks.html",
                  {"results": [r.as_dict() for r in results], "counts": counts, "live": True})


@login_required
def post_detail(request, pk: int):
    post = get_visible(request, Post.objects.select_related("unit", "author", "workflow"), pk)
    variants = list(post.variants.select_related("account"))
    steps = services.step_statuses(post) if post.state != PostState.DRAFT else []
    user = request.user
    can_change = has_perm(user, services.PERM_CHANGE, post.unit)
    ctx = _base_context(request) | {
        "post": post, "variants": [{"v": v, "measure": measure(v.account.network, v.effective_text)}
                                   for v in variants],
        "results": post.checks, "blocking": [r for r in post.checks if r.get("severity") == Severity.BLOCK],
        "steps": steps, "approvals": post.approvals.select_related("user"),
        "local_schedule": (services.local_schedule(post) or None) and
                          services.local_schedule(post).strftime("%Y-%m-%d %H:%M"),  # type: ignore[union-attr]
        "can_edit": can_change and post.state in (PostState.DRAFT, PostState.IN_REVIEW, PostState.APPROVED,
                                                  PostState.SCHEDULED, PostState.PAUSED),
        "can_submit": can_change and post.state == PostState.DRAFT,
        "can_approve": services.may_approve(user, post),
        "can_schedule": can_change and post.state in (PostState.APPROVED, PostState.PAUSED),
        "can_cancel": can_change and post.state not in (PostState.PUBLISHED, PostState.FAILED,
                                                        PostState.CANCELLED, PostState.SENDING),
        "comment_form": CommentForm(), "schedule_form": ScheduleForm(), "media_form": MediaForm(),
        "media": list(post.media.all()),
        "pause": services.active_pause_for(post.unit),
        "can_queue": can_change and post.state in services.QUEUEABLE_STATES,
        "settings_unit": post.unit if has_perm(user, services.PERM_SETTINGS, post.unit) else None,
        "short_links": services.post_clicks(post),
        "replies": services.post_conversations(post, user) if post.state == PostState.PUBLISHED else [],
    }
    return render(request, "publishing/post_detail.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def post_action(request, pk: int, verb: str):
    """The approval screen's buttons: submit, approve, request-changes, schedule, cancel, comment."""
    perms = {"submit": services.PERM_CHANGE, "approve": services.PERM_APPROVE,
             "request-changes": services.PERM_APPROVE, "schedule": services.PERM_CHANGE,
             "cancel": services.PERM_CHANGE, "comment": "publishing.view_post", "queue": services.PERM_CHANGE}
    if verb not in perms:
        raise Http404()
    post = get_for(request, Post, pk, perms[verb])
    back = redirect(post.get_absolute_url())
    if verb == "cancel":
        def act():
            call_service(request, services.cancel_post, post)
            return back
        return confirm_then_act(request, act=act, title=_("Cancel this post?"),
                                question=_("It will not be published. This cannot be undone."),
                                cancel_url=post.get_absolute_url(), confirm_label=_("Cancel the post"))
    if request.method != "POST":
        return back
    comment = CommentForm(request.POST)
    comment.is_valid()
    text = comment.cleaned_data.get("comment", "")
    try:
        if verb == "submit":
            services.submit_post(post, actor=request.user)
        elif verb == "approve":
            services.approve_post(post, actor=request.user, comment=text)
        elif verb == "request-changes":
            services.request_changes(post, actor=request.user, comment=text)
        elif verb == "comment":
            services.comment_post(post, actor=request.user, comment=text)
        elif verb == "queue":
            post = services.queue_post(post, actor=request.user)
            when = services.local_schedule(post)
            messages.success(request, _("Added to the queue: %(when)s (%(zone)s).") % {
                "when": when.strftime("%Y-%m-%d %H:%M") if when else "—", "zone": post.schedule_timezone})
        elif verb == "schedule":
            form = ScheduleForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Enter a valid date and time."))
                return back
            services.schedule_post(post, actor=request.user, scheduled_local=form.cleaned_data["scheduled_local"])
    except PermissionDeniedError as err:
        raise PermissionDenied(err.message) from err
    except GuidelineBlocked as err:
        messages.error(request, err.message)
    except DandelionError as err:
        messages.error(request, _enablement_message(err) or err.message)
    return back


def _enablement_message(err) -> str:
    """The enablement gate's refusal (the community app's ``EnablementRequired``), said in publishing's words."""
    if getattr(err, "code", "") != "enablement_required":
        return ""
    text = _("You may draft, but not submit or schedule yet: %(why)s") % {"why": err.message}
    path_url = getattr(err, "path_url", "")
    if path_url:
        text += " " + _("Learning path: %(url)s") % {"url": path_url}
    return text


@login_required
def calendar(request):
    """A month of scheduled and published posts, in the viewer's first unit's time zone, coloured by state."""
    require(request.user, "publishing.view_post")
    today = timezone.localdate()
    try:
        year, month = (int(x) for x in request.GET.get("month", "").split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    zone = ZoneInfo(timezone.get_current_timezone_name())
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    last_day = cal.monthrange(first.year, first.month)[1]
    end = start + dt.timedelta(days=last_day)
    posts, filters = _filtered_posts(request, Post.objects.restrict(request.user, "view"))
    posts = (posts.filter(scheduled_at__gte=start, scheduled_at__lt=end)
             .exclude(state=PostState.CANCELLED).select_related("unit").order_by("scheduled_at")[:1000])
    by_day: dict[int, list] = {}
    for post in posts:
        by_day.setdefault(post.scheduled_at.astimezone(zone).day, []).append(post)
    weeks = []
    for week in cal.Calendar(firstweekday=0).monthdayscalendar(first.year, first.month):
        weeks.append([{"day": d, "posts": by_day.get(d, []), "today": first.replace(day=d) == today if d else False}
                      for d in week])
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    ctx = _base_context(request) | _filter_context(request, filters) | {
        "weeks": weeks, "first": first, "prev": prev_month.strftime("%Y-%m"),
                                    "next": next_month.strftime("%Y-%m"), "zone": str(zone)}
    return render(request, "publishing/calendar.html", ctx)


def _week_start(request, zone) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("week", "") or request.POST.get("week", ""))
    except ValueError:
        today = timezone.now().astimezone(zone).date()
        return today - dt.timedelta(days=today.weekday())


def _week_context(request, zone, start_day: dt.date) -> dict:
    """Seven days × 24 hours of posts in ``zone``; a post the viewer may move is draggable."""
    start_day = start_day - dt.timedelta(days=start_day.weekday())
    start = dt.datetime.combine(start_day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(start_day + dt.timedelta(days=7), dt.time(), tzinfo=zone)
    qs, filters = _filtered_posts(request, Post.objects.restrict(request.user, "view"))
    qs = (qs.filter(scheduled_at__gte=start, scheduled_at__lt=end)
          .exclude(state=PostState.CANCELLED).select_related("unit", "campaign").order_by("scheduled_at"))
    days = [start_day + dt.timedelta(days=i) for i in range(7)]
    cells: dict[tuple[int, int], list] = {}
    for post in qs[:1000]:
        local = post.scheduled_at.astimezone(zone)
        post.movable = (post.state in services.MOVABLE_STATES
                        and has_perm(request.user, services.PERM_CHANGE, post.unit))
        cells.setdefault(((local.date() - start_day).days, local.hour), []).append(post)
    hours = [{"hour": h, "cells": [{"day": d, "posts": cells.get((i, h), [])} for i, d in enumerate(days)]}
             for h in range(24)]
    from urllib.parse import urlencode

    return {"days": days, "hours": hours, "week": start_day.isoformat(), "zone": zone.key,
            "filters": filters, "filter_query": urlencode(filters),
            "prev_week": (start_day - dt.timedelta(days=7)).isoformat(),
            "next_week": (start_day + dt.timedelta(days=7)).isoformat(), "today": timezone.now().astimezone(zone).date()}


@login_required
def calendar_week(request):
    """A week of posts hour by hour, in the viewer's time zone; drag a post to another hour to move it (HTMX:
    the same view renders the page or the week's partial)."""
    require(request.user, "publishing.view_post")
    zone = ZoneInfo(timezone.get_current_timezone_name())
    ctx = _base_context(request) | _filter_choices(request) | _week_context(request, zone, _week_start(request, zone))
    return render_page_or_partial(request, "publishing/calendar_week.html", "publishing/partials/_week.html", ctx)


@login_required
@require_POST
def calendar_move(request, pk: int):
    """The week view's drop: the post moves to the day and hour it was dropped on (its minutes kept)."""
    post = get_for(request, Post, pk, services.PERM_CHANGE)
    zone = ZoneInfo(timezone.get_current_timezone_name())
    try:
        day = dt.date.fromisoformat(request.POST.get("day", ""))
        hour = int(request.POST.get("hour", ""))
        if not 0 <= hour <= 23:
            raise ValueError
    except ValueError:
        return HttpResponseBadRequest(_("Give a day (YYYY-MM-DD) and an hour (0-23)."))
    minute = post.scheduled_at.astimezone(zone).minute if post.scheduled_at else 0
    when = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
    if when.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != when.replace(tzinfo=None):
        messages.error(request, _("%(when)s does not exist in %(zone)s (the clocks go forward).") % {
            "when": when.strftime("%Y-%m-%d %H:%M"), "zone": zone.key})
    else:
        _moved, ok = call_service(request, services.move_post, post, when=when)
        if ok:
            messages.success(request, _("Moved to %(when)s.") % {"when": when.strftime("%Y-%m-%d %H:%M")})
    ctx = _base_context(request) | _week_context(request, zone, day)
    if request.htmx:
        return render(request, "publishing/partials/_week.html", ctx)
    return redirect(reverse("publishing:calendar-week") + f"?week={ctx['week']}")


@login_required
@require_http_methods(["GET", "POST"])
def pause_list(request):
    require(request.user, "publishing.view_crisispause")
    form = PauseForm(request.POST or None, user=request.user)
    if request.method == "POST":
        require(request.user, services.PERM_PAUSE)
        if form.is_valid():
            pause, ok = call_service(request, services.pause_subtree, form=form, unit=form.cleaned_data["unit"],
                                     reason=form.cleaned_data["reason"])
            if ok:
                messages.warning(request, _("Publishing paused: %(n)d scheduled post(s) held.") % {
                    "n": pause.posts_paused})
                return redirect("publishing:pause-list")
    pauses = CrisisPause.objects.restrict(request.user, "view").select_related("unit", "started_by", "ended_by")
    ctx = _base_context(request) | {"form": form, "page": paginate(request, pauses),
                                    "can_pause": has_perm(request.user, services.PERM_PAUSE)}
    return render(request, "publishing/pause_list.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def pause_resume(request, pk: int):
    pause = get_for(request, CrisisPause, pk, services.PERM_RESUME)

    def act():
        counts, ok = call_service(request, services.resume_pause, pause)
        if ok:
            messages.success(request, _("Resumed: %(resumed)d post(s) scheduled again; %(fell_due)d fell due "
                                        "during the pause and wait to be rescheduled or cancelled.") % counts)
        return redirect(reverse("publishing:post-list") + "?state=paused")

    return confirm_then_act(request, act=act, title=_("Resume publishing?"),
                            question=_("Posts still ahead of their time go out as planned."),
                            cancel_url=reverse("publishing:pause-list"), confirm_label=_("Resume"), danger=False)


@login_required
def rule_list(request):
    require(request.user, "publishing.view_guidelinerule")
    rules = GuidelineRule.objects.restrict(request.user, "view").select_related("unit")
    return render(request, "publishing/rule_list.html", _base_context(request) | {"page": paginate(request, rules)})


@login_required
def workflow_list(request):
    require(request.user, "publishing.view_workflow")
    workflows = Workflow.objects.restrict(request.user, "view").select_related("unit").prefetch_related("steps")
    return render(request, "publishing/workflow_list.html",
                  _base_context(request) | {"page": paginate(request, workflows)})


# --- CSV import --------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def post_import(request):
    """Bulk scheduling from a CSV: all lines or none, every bad line reported with its number."""
    require(request.user, services.PERM_ADD)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    errors: list = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > importing.max_bytes():
                raise importing.ImportInvalid(_("The file is too large."), errors=[importing.LineError(
                    0, "file", _("The file is larger than %(kb)d KB.") % {"kb": importing.max_bytes() // 1024})])
            result = importing.import_posts_csv(actor=request.user, unit=form.cleaned_data["unit"],
                                                data=upload.read(), submit=form.cleaned_data["submit"])
        except PermissionDeniedError as err:
            raise PermissionDenied(err.message) from err
        except importing.ImportInvalid as err:
            errors = err.errors
            messages.error(request, err.message)
        else:
            messages.success(request, _("Imported %(n)d post(s).") % {"n": len(result.posts)})
            return redirect(reverse("publishing:post-list"))
    return render(request, "publishing/post_import.html",
                  _base_context(request) | {"form": form, "errors": errors, "columns": importing.COLUMNS})


# --- campaigns ---------------------------------------------------------------------------------------------------------


@login_required
def campaign_list(request):
    """The campaigns the viewer runs (their unit's or below) and those their spokes are assigned to."""
    require(request.user, "publishing.view_campaignspoke")
    own = list(Campaign.objects.restrict(request.user, "view").select_related("unit")[:200])
    assigned = list(CampaignSpoke.objects.restrict(request.user, "view").select_related("campaign", "unit")
                    .exclude(campaign__in=own).order_by("-campaign__starts_at")[:200])
    ctx = _base_context(request) | {"own": own, "assigned": assigned,
                                    "can_add": has_perm(request.user, campaigns.PERM_ADD_CAMPAIGN)}
    return render(request, "publishing/campaign_list.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request):
    require(request.user, campaigns.PERM_ADD_CAMPAIGN)
    form = CampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        campaign, ok = call_service(request, campaigns.create_campaign, form=form, unit=data["unit"],
                                    name=data["name"], brief=data["brief"], master_text=data["master_text"],
                                    is_sponsored=data["is_sponsored"], starts_local=data["starts_local"],
                                    ends_local=data["ends_local"], spokes=list(data["spokes"]))
        if ok:
            messages.success(request, _("Campaign created: the spokes can localise it now."))
            return redirect(campaign.get_absolute_url())
    return render(request, "publishing/campaign_form.html", _base_context(request) | {"form": form})


@login_required
def campaign_detail(request, pk: int):
    """The brief and the matrix of spokes × status: every spoke for the campaign's owner, one's own spokes for a
    spoke (404 to anyone who sees neither)."""
    user = request.user
    campaign = Campaign.objects.select_related("unit", "created_by").filter(pk=pk).first()
    owner = campaign is not None and Campaign.objects.restrict(user, "view").filter(pk=pk).exists()
    rows = list(CampaignSpoke.objects.restrict(user, "view").filter(campaign_id=pk).select_related("unit")
                .order_by("unit__path"))
    if campaign is None or not (owner or rows):
        raise Http404()
    can_nudge = has_perm(user, campaigns.PERM_CHANGE_CAMPAIGN, campaign.unit)
    matrix = []
    for row in campaigns.campaign_matrix(campaign, rows):
        matrix.append({"row": row, "can_nudge": can_nudge and row.can_nudge,
                       "can_localise": has_perm(user, services.PERM_ADD, row.assignment.unit)
                       and campaign.ends_at > timezone.now(),
                       "can_decline": has_perm(user, campaigns.PERM_DECLINE, row.assignment.unit)
                       and row.status == "not_started"})
    zone = ZoneInfo(campaign.unit.timezone or "UTC")
    ctx = _base_context(request) | {"campaign": campaign, "matrix": matrix, "owner": owner, "zone": zone.key,
                                    "starts": campaign.starts_at.astimezone(zone),
                                    "ends": campaign.ends_at.astimezone(zone), "reason_form": ReasonForm()}
    return render(request, "publishing/campaign_detail.html", ctx)


@login_required
def campaign_spoke(request, pk: int):
    row = get_visible(request, CampaignSpoke, pk)
    return redirect(reverse("publishing:campaign-detail", args=[row.campaign_id]) + f"#spoke-{row.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def campaign_localise(request, pk: int):
    """The spoke's own post of the campaign, prefilled with the master post."""
    row = get_for(request, CampaignSpoke.objects.select_related("campaign", "unit"), pk, services.PERM_ADD)
    form = LocaliseForm(request.POST or None, user=request.user, assignment=row)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        post, ok = call_service(request, campaigns.localise_campaign, row, form=form,
                                accounts=list(data["accounts"]), text=data["text"],
                                scheduled_local=data["scheduled_local"])
        if ok:
            messages.success(request, _("Draft saved: submit it to your workflow."))
            return redirect(post.get_absolute_url())
    return render(request, "publishing/campaign_localise.html",
                  _base_context(request) | {"form": form, "row": row, "campaign": row.campaign})


@login_required
@require_POST
def campaign_spoke_action(request, pk: int, verb: str):
    """The matrix's buttons: a spoke declines (with its reason), the campaign's owner nudges a spoke."""
    if verb not in ("decline", "nudge"):
        raise Http404()
    row = get_visible(request, CampaignSpoke.objects.select_related("campaign", "campaign__unit", "unit"), pk)
    if verb == "decline":
        require(request.user, campaigns.PERM_DECLINE, row.unit)
    else:
        require(request.user, campaigns.PERM_CHANGE_CAMPAIGN, row.campaign.unit)
    form = ReasonForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    if verb == "decline":
        _row, ok = call_service(request, campaigns.decline_campaign, row, reason=reason)
        if ok:
            messages.success(request, _("%(unit)s declined the campaign.") % {"unit": row.unit.name})
    else:
        _row, ok = call_service(request, campaigns.nudge_spoke, row, message=reason)
        if ok:
            messages.success(request, _("%(unit)s was nudged.") % {"unit": row.unit.name})
    return redirect(reverse("publishing:campaign-detail", args=[row.campaign_id]) + f"#spoke-{row.pk}")


# --- images ------------------------------------------------------------------------------------------------------------


@login_required
@require_POST
def media_add(request, pk: int):
    post = get_for(request, Post, pk, services.PERM_CHANGE)
    form = MediaForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose an image file."))
        return redirect(post.get_absolute_url())
    upload = form.cleaned_data["file"]
    if upload.size > media.MAX_IMAGE_BYTES:
        messages.error(request, _("The image is larger than 8 MB."))
        return redirect(post.get_absolute_url())
    _m, ok = call_service(request, media.add_media, post, data=upload.read(), name=upload.name,
                          alt_text=form.cleaned_data["alt_text"])
    if ok:
        messages.success(request, _("Image added."))
    return redirect(post.get_absolute_url())


@login_required
@require_POST
def media_remove(request, pk: int):
    item = get_for(request, PostMedia.objects.select_related("post", "post__unit"), pk, services.PERM_CHANGE,
                   unit=lambda m: m.post.unit)
    _r, ok = call_service(request, media.remove_media, item)
    if ok:
        messages.success(request, _("Image removed."))
    return redirect(item.post.get_absolute_url())


@require_http_methods(["GET", "HEAD"])
def follow_short_link(request, code: str):
    """A short link of a sent post: counts the click (a GET; not a HEAD) and redirects to the tagged target. Public:
    the people following it are the network's readers."""
    from dandelion.publishing import clicks

    agent = request.headers.get("User-Agent", "")
    target = services.follow_short_link(code, count=request.method == "GET", user_agent=agent,
                                        client=clicks.client_key(request.META.get("REMOTE_ADDR"), agent))
    if target is None:
        raise Http404()
    response = redirect(target)
    response["Cache-Control"] = "no-store"  # every click reaches the counter
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def settings_edit(request, unit_pk: int):
    """A unit's UTM parameters, link shortening and posting slots (``publishing.change_publishingsettings``)."""
    unit = get_visible(request, OrgUnit, unit_pk)
    require(request.user, services.PERM_SETTINGS, unit)
    conf = PublishingSettings.objects.filter(unit=unit).first()
    inherited = None if conf else services.links.settings_for(unit)
    shown = conf or inherited
    initial = {**(shown.utm if shown else {}), "shorten_links": bool(shown and shown.shorten_links),
               "slots": slot_rules.slots_text(shown.slots) if shown else "",
               "timezone": shown.timezone if shown else ""}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        utm = {k: data[k] for k in ("utm_source", "utm_medium", "utm_campaign", "utm_content") if data[k]}
        try:
            services.update_settings(unit, actor=request.user, utm=utm, shorten_links=data["shorten_links"],
                                     slots=data["slots"], timezone_name=data["timezone"].strip())
        except PermissionDeniedError as err:
            raise PermissionDenied(err.message) from err
        except DandelionError as err:
            form_error(form, err)
        else:
            messages.success(request, _("Publishing settings saved."))
            return redirect(reverse("publishing:settings", args=[unit.pk]))
    return render(request, "publishing/settings.html", _base_context(request) | {
        "unit": unit, "form": form, "inherited": inherited, "settings_unit": unit})


# --- employee advocacy ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def advocacy_list(request):
    """The advocacy library the viewer may share (with a share form each), their linked accounts, and, for those
    who manage a library, a form to add an item."""
    from dandelion.publishing import advocacy
    from dandelion.publishing.forms import AdvocacyItemForm, PersonalAccountForm
    from dandelion.publishing.models import PersonalAccount

    can_add = has_perm(request.user, advocacy.PERM_ADD)
    can_share = has_perm(request.user, advocacy.PERM_SHARE)
    if not (can_add or can_share):
        raise PermissionDenied(_("You may not use the advocacy library."))
    item_form = AdvocacyItemForm(request.POST if "add_item" in request.POST else None, user=request.user)
    account_form = PersonalAccountForm(request.POST if "add_account" in request.POST else None, user=request.user)
    if request.method == "POST":
        if "add_item" in request.POST and item_form.is_valid():
            data = item_form.cleaned_data
            item, ok = call_service(request, advocacy.create_item, form=item_form, unit=data["unit"],
                                    title=data["title"], url=data["url"],
                                    suggested_texts={data["language"]: data["text"]})
            if ok:
                messages.success(request, _("Added to the advocacy library."))
                return redirect("publishing:advocacy-list")
        elif "add_account" in request.POST and account_form.is_valid():
            data = account_form.cleaned_data
            _account, ok = call_service(request, advocacy.register_personal_account, form=account_form, **data)
            if ok:
                messages.success(request, _("Your account is linked."))
                return redirect("publishing:advocacy-list")
    accounts = list(PersonalAccount.objects.filter(user=request.user).select_related("unit"))
    library = list(advocacy.library_for(request.user)[:200])
    languages = accounts[0].unit.languages if accounts else []
    for item in library:
        item.suggested = item.text_for(languages)
    ctx = _base_context(request) | {
        "library": library, "accounts": accounts, "item_form": item_form, "account_form": account_form,
        "can_add": can_add, "can_share": can_share, "managed": list(advocacy.managed_items(request.user)[:200]),
        "connect_form": _personal_connect_form(request) if can_share else None}
    return render(request, "publishing/advocacy_list.html", ctx)


#: Session key of the personal connections waiting for the network's redirect (``state`` -> what was asked).
PERSONAL_PENDING_KEY = "publishing_personal_oauth_pending"
PERSONAL_PENDING_MAX = 5


def _personal_state_secret() -> str:
    from django.conf import settings

    return f"publishing.personal-oauth:{settings.SECRET_KEY}"


def _personal_connect_form(request, data=None):
    from dandelion.assets.services import oauth_networks
    from dandelion.publishing.forms import PersonalConnectForm

    return PersonalConnectForm(data, user=request.user, networks=oauth_networks())


@login_required
@require_POST
def advocacy_connect(request):
    """Connect one's own account: Dandelion's app on the person's server (registered there if needed), then the
    person is sent to their network to consent; :func:`advocacy_connect_callback` stores the token."""
    from dandelion.connectors import oauth as shared_oauth
    from dandelion.publishing import advocacy

    if not has_perm(request.user, advocacy.PERM_SHARE):
        raise PermissionDenied(_("You may not use the advocacy library."))
    form = _personal_connect_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        redirect_uri = request.build_absolute_uri(reverse("publishing:advocacy-connect-callback"))
        try:
            app = advocacy.start_personal_connection(actor=request.user, unit=data["unit"], network=data["network"],
                                                     instance=data["instance"], redirect_uri=redirect_uri)
            state = shared_oauth.make_state(_personal_state_secret(), app.pk)
            url = advocacy.personal_authorize_url(app, state=state)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DandelionError as exc:
            messages.error(request, exc.message)
        else:
            shared_oauth.remember_pending(request.session, PERSONAL_PENDING_KEY, state, {
                "app": app.pk, "unit": data["unit"].pk, "user": request.user.pk}, keep=PERSONAL_PENDING_MAX)
            return redirect(url)
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("publishing:advocacy-list")


@never_cache
@login_required
@require_GET
def advocacy_connect_callback(request):
    """Where the network sends the person back (the registry's ``finish_oauth_callback``: the state this session
    started for this person, the network's refusal, the code exchanged); the token is stored, encrypted."""
    from dandelion.assets.views import finish_oauth_callback
    from dandelion.publishing import advocacy

    _account, failed = finish_oauth_callback(
        request, pending_key=PERSONAL_PENDING_KEY, secret=_personal_state_secret(), back="publishing:advocacy-list",
        complete=lambda app, unit, code: advocacy.complete_personal_connection(actor=request.user, unit=unit,
                                                                               app=app, code=code))
    return failed or redirect("publishing:advocacy-list")


@login_required
@require_POST
def advocacy_account_revoke(request, pk: int):
    """Disconnect one of one's own personal accounts (its token is erased); another person's is a 404."""
    from dandelion.publishing import advocacy
    from dandelion.publishing.models import PersonalAccount

    account = get_object_or_404(PersonalAccount.objects.filter(user=request.user), pk=pk)
    advocacy.revoke_personal_account(account, actor=request.user)
    messages.success(request, _("Disconnected %(account)s: nothing will be shared through it.")
                     % {"account": account})
    return redirect("publishing:advocacy-list")


@login_required
@require_http_methods(["GET", "POST"])
def advocacy_detail(request, pk: int):
    """One item: its texts, the viewer's share form, and (for those who manage its library) shares and clicks per
    spoke. A POST shares it."""
    from dandelion.publishing import advocacy
    from dandelion.publishing.forms import ShareForm
    from dandelion.publishing.models import AdvocacyItem

    in_library = advocacy.library_for(request.user).filter(pk=pk).first()
    item = in_library or get_visible(request, AdvocacyItem, pk)
    form = ShareForm(request.POST or None, user=request.user)
    own = form.fields["account"].queryset.first()
    form.initial["text"] = item.text_for(own.unit.languages if own else [])
    if request.method == "POST":
        if in_library is None:
            raise PermissionDenied(_("This item is not in your library."))
        if form.is_valid():
            share, ok = call_service(request, advocacy.share_item, in_library, form=form,
                                     account=form.cleaned_data["account"], text=form.cleaned_data["text"])
            if ok:
                if share.state == "sent":
                    messages.success(request, _("Shared on %(account)s.") % {"account": share.account.handle})
                else:
                    messages.error(request, _("The network refused the share: %(error)s") % {"error": share.error})
                return redirect(item.get_absolute_url())
    stats = advocacy.item_stats(item, actor=request.user) if has_perm(
        request.user, advocacy.PERM_VIEW, item.unit) else None
    ctx = _base_context(request) | {"item": item, "form": form, "in_library": in_library is not None,
                                    "stats": stats}
    return render(request, "publishing/advocacy_detail.html", ctx)


# --- filters shared by the list, the calendars and the CSV export -------------------------------------------------

FILTER_KEYS = ("state", "unit", "account", "campaign")


def _filtered_posts(request, qs):
    """``qs`` narrowed by the request's filters: ``state``, ``unit`` (the unit and its subtree), ``account`` (a
    variant on that account), ``campaign``. Unknown or foreign ids simply match nothing (the base queryset is
    already restricted). Returns ``(qs, filters)`` with the filters that applied, for links and forms."""
    filters: dict[str, str] = {}
    state = request.GET.get("state", "")
    if state in PostState.values:
        qs, filters["state"] = qs.filter(state=state), state
    unit_id = request.GET.get("unit", "")
    if unit_id.isdigit():
        unit = OrgUnit.objects.restrict(request.user, "view").filter(pk=int(unit_id)).first()
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
        filters["unit"] = unit_id
    account_id = request.GET.get("account", "")
    if account_id.isdigit():
        qs, filters["account"] = qs.filter(pk__in=PostVariant.objects.filter(account_id=int(account_id))
                                           .values("post_id")), account_id
    campaign_id = request.GET.get("campaign", "")
    if campaign_id.isdigit():
        qs, filters["campaign"] = qs.filter(campaign_id=int(campaign_id)), campaign_id
    return qs, filters


def _filter_choices(request) -> dict:
    """The units, accounts and campaigns the viewer may filter by (those they see)."""
    user = request.user
    return {
        "filter_units": list(OrgUnit.objects.restrict(user, "view").filter(is_active=True).order_by("path")
                             .only("id", "name", "depth")[:300]),
        "filter_accounts": list(SocialAccount.objects.restrict(user, "view").order_by("network", "handle")
                                .only("id", "network", "handle")[:300]),
        "filter_campaigns": list(Campaign.objects.restrict(user, "view").order_by("-starts_at")
                                 .only("id", "name")[:100]),
    }


def _filter_context(request, filters: dict) -> dict:
    from urllib.parse import urlencode

    return _filter_choices(request) | {"filters": filters, "filter_query": urlencode(filters)}


CSV_MAX_ROWS = 10_000
CSV_COLUMNS = ("id", "title", "unit", "state", "scheduled_at_utc", "schedule_timezone", "campaign", "accounts",
               "text", "published_at_utc", "author", "last_error")


def _csv_cell(value) -> str:
    """A cell that a spreadsheet will not run: text starting with = + - @ (or a tab / CR) gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
def post_export(request):
    """The posts the viewer sees, with the list's current filters, as CSV (10,000 rows at most)."""
    import csv

    from django.http import HttpResponse

    require(request.user, "publishing.view_post")
    qs, _filters = _filtered_posts(request, Post.objects.restrict(request.user, "view"))
    qs = (qs.select_related("unit", "campaign", "author").prefetch_related("variants__account")
          .order_by("-created_at", "id")[:CSV_MAX_ROWS])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="posts.csv"'
    response.write("\ufeff")  # spreadsheets read UTF-8 with a BOM
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for post in qs:
        accounts = ";".join(f"{v.account.network}:{v.account.handle}" for v in post.variants.all())
        writer.writerow([_csv_cell(x) for x in (
            post.pk, post.title, post.unit.name, post.state,
            post.scheduled_at.isoformat() if post.scheduled_at else "", post.schedule_timezone,
            post.campaign.name if post.campaign_id else "", accounts, post.text,
            post.published_at.isoformat() if post.published_at else "",
            post.author.get_username() if post.author_id else "", post.last_error)])
    return response


@login_required
def media_file(request, pk: int, kind: str = "file"):
    """An image of a post (``file``) or its thumbnail (``thumb``), served only to those who may see the post
    (a draft's image is not public); ``Cache-Control: private``."""
    from django.http import FileResponse

    item = PostMedia.objects.filter(pk=pk, post__in=Post.objects.restrict(request.user, "view")).first()
    if item is None:
        raise Http404()
    field = item.thumbnail if kind == "thumb" and item.thumbnail else item.file
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404() from exc
    response = FileResponse(handle, content_type=(item.content_type if field is item.file else "image/png")
                            or "application/octet-stream")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
