"""The analytics pages: dashboards (hub, unit, team, account), the top-properties leaderboard and the success
stories. Reads go through ``restrict()`` (``filters.resolve``); writes through ``analytics.services``."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from dandelion.analytics import exports, filters, published, reports, services
from dandelion.analytics.api.views import _account_labels, _unit_labels, leaderboard_accounts
from dandelion.analytics.choices import StoryStatus, StoryTheme
from dandelion.analytics.exceptions import BadPeriod
from dandelion.analytics.forms import StoryForm
from dandelion.analytics.models import SuccessStory
from dandelion.core.exceptions import NotFoundError, PermissionDeniedError
from dandelion.core.permissions import has_perm
from dandelion.core.view_helpers import call_service, confirm_then_act, get_visible, paginate

SERIES_COLUMNS, BREAKDOWN_COLUMNS = exports.SERIES_COLUMNS, exports.BREAKDOWN_COLUMNS


def _resolve(request):
    """The scope, or the error page's (status, message)."""
    try:
        return filters.resolve(request.user, request.GET), None
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except BadPeriod as exc:
        return None, exc.message


def _selected(request, scope) -> dict:
    """What the filter bar shows as chosen (the request's values, the resolved period)."""
    def pk(name):
        obj = getattr(scope, name, None) if scope else None
        return obj.pk if obj is not None else None

    return {"start": scope.period.start.isoformat() if scope else request.GET.get("start", "")[:20],
            "end": scope.period.end.isoformat() if scope else request.GET.get("end", "")[:20],
            "unit": pk("unit"), "team": pk("team"), "account": pk("account"), "campaign": pk("campaign"),
            "network": scope.network if scope else "", "language": scope.language if scope else ""}


def _options(request) -> dict:
    """What the filter bar offers: the units, teams and accounts the viewer sees, their networks and languages."""
    from dandelion.assets.models import SocialAccount
    from dandelion.orgs.models import OrgUnit, Team

    accounts = list(SocialAccount.objects.restrict(request.user, "view").select_related("owner_unit")
                    .order_by("network", "handle")[:500])
    return {
        "units": OrgUnit.objects.restrict(request.user, "view").order_by("path")[:500],
        "teams": Team.objects.restrict(request.user, "view").select_related("unit").order_by("name")[:500],
        "accounts": accounts,
        "networks": sorted({a.network for a in accounts}),
        "campaigns": filters.visible_campaigns(request.user).only("pk", "name")[:200],
        # the languages the accounts in scope declare (and the one chosen): a DISTINCT over every rollup row the
        # viewer may see was the page's slowest query at size (docs/benchmarks.md §9)
        "languages": sorted({str(code)[:8] for a in accounts for code in (a.languages or [])}
                            | ({request.GET["language"][:8]} if request.GET.get("language") else set())),
    }


HEADLINE_COLUMNS, LEADERBOARD_COLUMNS = exports.HEADLINE_COLUMNS, exports.LEADERBOARD_COLUMNS


def _csv(name: str, columns, rows):
    return exports.csv_response(name, columns, rows)


PUBLISHED_COLUMNS = exports.PUBLISHED_COLUMNS


_published_charts = exports.published_charts
_charts = exports.dashboard_charts


def _pdf_subtitle(scope) -> str:
    filters_ = [v for v in (scope.network, scope.language, getattr(scope.campaign, "name", "")) if v]
    return _("%(scope)s · %(start)s – %(end)s (previous period %(pstart)s – %(pend)s)%(filters)s") % {
        "scope": scope.label, "start": scope.period.start.isoformat(), "end": scope.period.end.isoformat(),
        "pstart": scope.period.previous.start.isoformat(), "pend": scope.period.previous.end.isoformat(),
        "filters": (" · " + ", ".join(filters_)) if filters_ else ""}


@login_required
@require_GET
def dashboard(request):
    scope, error = _resolve(request)
    context = {"scope": scope, "error": error, "sel": _selected(request, scope), **_options(request)}
    if scope is None:
        return render(request, "analytics/dashboard.html", context, status=400)
    data = reports.merged_dashboard(scope, _unit_labels, _account_labels)
    by_unit, by_account = data.pop("by_unit"), data.pop("by_account")
    pub = published.performance(request.user, scope) if published.applies(scope) else None
    export = request.GET.get("format")
    if export == "csv":
        table = request.GET.get("table", "series")
        if table in ("published-accounts", "published-units"):
            rows = [] if pub is None else pub["by_account" if table == "published-accounts" else "by_unit"]
            return _csv(f"analytics-{table}", PUBLISHED_COLUMNS, rows)
        if table == "units":
            return _csv("analytics-units", BREAKDOWN_COLUMNS, by_unit)
        if table == "accounts":
            return _csv("analytics-accounts", BREAKDOWN_COLUMNS, by_account)
        return _csv("analytics-daily", SERIES_COLUMNS, data["series"])
    if export == "xlsx":
        return exports.xlsx_response("analytics", exports.dashboard_sheets(data, by_unit, by_account, pub))
    if export == "pdf":
        charts = {**_charts(data, by_unit), **(_published_charts(pub) if pub is not None else {})}
        return exports.pdf_response("analytics", exports.pdf_bytes(
            _("Analytics: %(scope)s") % {"scope": scope.label}, _pdf_subtitle(scope),
            exports.dashboard_sheets(data, by_unit, by_account, pub), charts))
    context.update(data=data, by_unit=by_unit, by_account=by_account[:50],
                   charts=_charts(data, by_unit), query=json.dumps(scope.params), published=pub,
                   published_charts=_published_charts(pub) if pub is not None else None)
    return render(request, "analytics/dashboard.html", context)


@login_required
@require_GET
def leaderboard(request):
    scope, error = _resolve(request)
    context = {"scope": scope, "error": error, "sel": _selected(request, scope), **_options(request)}
    if scope is None:
        return render(request, "analytics/leaderboard.html", context, status=400)
    entries = reports.leaderboard(scope.queryset, leaderboard_accounts(request.user, scope), scope.period)
    featured = dict(SuccessStory.objects.readable_by(request.user).filter(account_id__in=[e["account_id"]
                    for e in entries]).order_by("account_id", "-featured_at").values_list("account_id", "pk"))
    for e in entries:
        e["story_id"] = featured.get(e["account_id"])
    if request.GET.get("format") == "csv":
        return _csv("top-properties", LEADERBOARD_COLUMNS, entries)
    if request.GET.get("format") == "xlsx":
        return exports.xlsx_response("top-properties", [(_("Top properties"), LEADERBOARD_COLUMNS, entries)])
    if request.GET.get("format") == "pdf":
        return exports.pdf_response("top-properties", exports.pdf_bytes(
            _("Top properties: %(scope)s") % {"scope": scope.label}, _pdf_subtitle(scope),
            [(_("Top properties"), LEADERBOARD_COLUMNS, entries)]))
    context.update(entries=entries, badge_days=reports.BADGE_DAYS)
    return render(request, "analytics/leaderboard.html", context)


# ---- success stories ----

def _require_story_reader(request) -> None:
    if not has_perm(request.user, "analytics.view_successstory"):
        raise PermissionDenied(_("You may not read success stories."))


@login_required
@require_GET
def story_list(request):
    _require_story_reader(request)
    qs = SuccessStory.objects.readable_by(request.user).select_related("unit", "account")
    theme, status, network = request.GET.get("theme", ""), request.GET.get("status", ""), request.GET.get("network", "")
    if theme in StoryTheme.values:
        qs = qs.filter(theme=theme)
    if status in StoryStatus.values:
        qs = qs.filter(status=status)
    if network:
        qs = qs.filter(account__network=network[:40])
    return render(request, "analytics/story_list.html", {
        "page": paginate(request, qs), "themes": StoryTheme.choices, "statuses": StoryStatus.choices,
        "theme": theme, "status": status, "network": network,
        "may_write": has_perm(request.user, services.PERM_ADD_STORY)})


def _story(request, pk) -> SuccessStory:
    _require_story_reader(request)
    return get_visible(request, SuccessStory.objects.readable_by(request.user).select_related("unit", "account"), pk)


@login_required
@require_GET
def story_detail(request, pk: int):
    from dandelion.core.plugins import org_tree
    from dandelion.orgs.rendering import render_markdown

    story = _story(request, pk)
    rows = []
    if story.snapshot:
        before, after = story.snapshot.get("before", {}), story.snapshot.get("after", {})
        for name, _higher in reports.HEADLINE:
            rows.append({"name": name, "before": before.get(name), "after": after.get(name)})
    return render(request, "analytics/story_detail.html", {
        "story": story, "body_html": render_markdown(story.body), "snapshot_rows": rows,
        "may_edit": story.status != StoryStatus.FEATURED and has_perm(request.user, services.PERM_CHANGE_STORY,
                                                                       story.unit),
        "may_submit": story.status == StoryStatus.DRAFT and has_perm(request.user, services.PERM_SUBMIT_STORY,
                                                                      story.unit),
        "may_feature": story.status == StoryStatus.SUBMITTED and has_perm(
            request.user, services.PERM_FEATURE_STORY, org_tree().root_unit())})


@login_required
@require_http_methods(["GET", "POST"])
def story_create(request):
    _require_story_reader(request)
    if not has_perm(request.user, services.PERM_ADD_STORY):
        raise PermissionDenied(_("You may not write success stories."))
    form = StoryForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        story, ok = call_service(request, services.create_story, form=form, **form.cleaned_data)
        if ok:
            messages.success(request, _("Story drafted; its figures are frozen."))
            return redirect(story)
    return render(request, "analytics/story_form.html", {"form": form, "story": None},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def story_edit(request, pk: int):
    story = _story(request, pk)
    if not has_perm(request.user, services.PERM_CHANGE_STORY, story.unit):
        raise PermissionDenied(_("You may not edit this story."))
    form = StoryForm(request.POST or None, instance=SuccessStory.objects.get(pk=story.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        story, ok = call_service(request, services.update_story, story, form=form, **form.cleaned_data)
        if ok:
            messages.success(request, _("Story saved."))
            return redirect(story)
    return render(request, "analytics/story_form.html", {"form": form, "story": story},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def story_submit(request, pk: int):
    story = _story(request, pk)
    if not has_perm(request.user, services.PERM_SUBMIT_STORY, story.unit):
        raise PermissionDenied(_("You may not submit this story."))

    def act():
        call_service(request, services.submit_story, story)
        return redirect(story)

    return confirm_then_act(request, act=act, title=_("Submit to the hub"), danger=False,
                            question=_("Submit “%(title)s” to the hub? It can still be edited until featured.")
                            % {"title": story.title}, cancel_url=story.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def story_feature(request, pk: int):
    from dandelion.core.plugins import org_tree

    story = _story(request, pk)
    if not has_perm(request.user, services.PERM_FEATURE_STORY, org_tree().root_unit()):
        raise PermissionDenied(_("Only the hub features stories."))

    def act():
        call_service(request, services.feature_story, story)
        return redirect(story)

    return confirm_then_act(request, act=act, title=_("Feature this story"), danger=False,
                            question=_("Feature “%(title)s”? Every spoke will be able to read it.")
                            % {"title": story.title}, cancel_url=story.get_absolute_url())
