"""The bell and the notifications page. Every lookup goes through ``for_recipient``: another person's notification
is a 404, whatever the viewer's role."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dandelion.core.htmx import render_page_or_partial, wants_partial
from dandelion.core.paging import BoundedPaginator
from dandelion.notifications import services
from dandelion.notifications.models import Notification

PAGE_SIZE = 30


def _mine(request):
    return Notification.objects.for_recipient(request.user)


@login_required
@require_GET
def notification_list(request):
    unread_only = request.GET.get("filter") == "unread"
    qs = _mine(request)
    if unread_only:
        qs = qs.unread()
    page = BoundedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page_or_partial(request, "notifications/notification_list.html",
                                  "notifications/partials/_list.html",
                                  {"page": page, "unread_only": unread_only,
                                   "unread_count": services.unread_count(request.user)})


@login_required
@require_POST
def mark_read(request, pk: int):
    notification = get_object_or_404(_mine(request), pk=pk)
    services.mark_read(notification, actor=request.user)
    if wants_partial(request):
        response = render(request, "notifications/partials/_item.html", {"n": notification})
        response["HX-Trigger"] = "notifications-changed"
        return response
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request):
    count = services.mark_all_read(actor=request.user)
    if wants_partial(request):
        page = BoundedPaginator(_mine(request), PAGE_SIZE).get_page(1)
        response = render(request, "notifications/partials/_list.html",
                          {"page": page, "unread_only": False, "unread_count": 0})
        response["HX-Trigger"] = "notifications-changed"
        return response
    messages.success(request, _("Marked %(count)s notifications read.") % {"count": count})
    return redirect("notifications:list")


@login_required
@require_GET
def open_notification(request, pk: int):
    """Mark read and go to what it is about (a path inside Dandelion only)."""
    notification = get_object_or_404(_mine(request), pk=pk)
    services.mark_read(notification, actor=request.user)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_GET
def bell(request):
    """The header bell alone (HTMX refreshes it after a mark-read and every minute)."""
    return render(request, "notifications/partials/_bell.html",
                  {"unread_count": services.unread_count(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def digest_settings(request):
    """The person's own choice of the daily e-mail digest of what waits on them."""
    if request.method == "POST":
        enabled = request.POST.get("email_digest") == "on"
        services.set_email_digest(actor=request.user, enabled=enabled)
        messages.success(request, _("The daily e-mail digest is on.") if enabled
                         else _("The daily e-mail digest is off."))
        return redirect("notifications:settings")
    return render(request, "notifications/settings.html",
                  {"email_digest": services.email_digest_enabled(request.user),
                   "has_email": bool(request.user.email)})
