"""Keep invited guests inside their gathering: every URL but its page, its .ics and its materials answers 403."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

from dandelion.community import guest_access


class GuestAccessMiddleware:
    """After authentication: a session marked as a guest's (:data:`guest_access.SESSION_KEY`, set at login) may open
    only :func:`guest_access.allowed`'s URLs of the gatherings it holds an active grant on. Elsewhere — the inbox, the
    organisation, the knowledge base, other gatherings, the API — a 403 page says why and links to the gathering;
    each refusal is audited. Members' requests cost nothing (the flag is in the session already loaded)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if (
            session is None
            or not session.get(guest_access.SESSION_KEY)
            or not user
            or not user.is_authenticated
        ):
            return self.get_response(request)
        ids = guest_access.active_gathering_ids(user)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        if match is not None and match.view_name == "home" and ids:
            return redirect("community:gathering-detail", pk=min(ids))
        request.restricted_navigation = guest_access.navigation(ids)  # the sidebar lists their gatherings only
        if guest_access.allowed(match, ids):
            request.community_guest_gatherings = ids
            return self.get_response(request)
        if request.method == "GET" and request.headers.get("HX-Request") == "true" and not request.headers.get(
                "HX-Boosted"):
            # a fragment the shared layout loads by itself (the notification bell, every minute): nothing to show
            # a guest, and not the guest trying a page, so neither a 403 toast on their page nor an audit row
            return HttpResponse(status=204)
        return self.forbidden(request, ids)

    @staticmethod
    def forbidden(request, ids: set[int]):
        from dandelion.community.models import Gathering
        from dandelion.core import audit

        gatherings = list(Gathering.objects.filter(pk__in=ids).order_by("starts_at"))
        audit.record(
            actor=request.user,
            action="community.guest.denied",
            obj=gatherings[0] if gatherings else None,
            summary=f"Guest {request.user} refused {request.path_info[:200]}",
        )
        html = render_to_string(
            "community/guest_forbidden.html", {"gatherings": gatherings, "expired": not ids}, request=request
        )
        return HttpResponseForbidden(html)
