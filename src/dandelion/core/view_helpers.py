"""One set of helpers for the HTML views of every app.

* :func:`get_visible` / :func:`get_for`: the permission-checked object fetch: a row outside the viewer's scope is a
  404 (its existence is not told), one they see but may not act on a 403.
* :func:`require`: a permission check answering 403.
* :func:`call_service`: run a service as the signed-in person; a rule violation lands on the form (or as a message),
  a missing permission is a 403.
* :func:`paginate`: a page of a list (``?page=``), bounded counting (``core.paging``).
* :func:`render_page_or_partial`: one view, two renders (HTMX).
* :func:`confirm_then_act`: a destructive action asks first (GET: a confirmation page; POST: the action).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from dandelion.core.exceptions import DandelionError, PermissionDeniedError
from dandelion.core.htmx import render_page_or_partial, wants_partial
from dandelion.core.paging import BoundedPaginator
from dandelion.core.permissions import denial_message, has_perm

PAGE_SIZE = 50


def require(user, perm: str, unit=None, *, team_id: int | None = None, message: str | None = None) -> None:
    """403 unless ``user`` may ``perm`` on ``unit`` (anywhere when None)."""
    if not has_perm(user, perm, unit, team_id=team_id):
        # the unit is named only to someone who may see it: a refusal never tells a unit outside one's scope
        raise PermissionDenied(message if message is not None else denial_message(user, perm, unit))


def get_visible(request, queryset, pk, *, action: str = "view"):
    """The row ``pk`` of ``queryset`` (a queryset or a model) if the viewer may ``action`` it, else 404."""
    if not hasattr(queryset, "restrict"):
        queryset = queryset._default_manager.all()
    return get_object_or_404(queryset.restrict(request.user, action), pk=pk)


def get_for(request, queryset, pk, perm: str, *, unit: Callable[[Any], Any] = lambda obj: obj.unit,
            message: str | None = None):
    """The row ``pk`` the viewer sees (404 otherwise) and may ``perm`` on its ``unit(obj)`` (403 otherwise)."""
    obj = get_visible(request, queryset, pk)
    require(request.user, perm, unit(obj), message=message)
    return obj


def form_error(form, exc: DandelionError) -> None:
    """A service's rule violation on the form: on its field when the form has it, else on the whole form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def call_service(request, service: Callable[..., Any], *args, form=None, **kwargs) -> tuple[Any, bool]:
    """``service(*args, actor=request.user, **kwargs)``; returns ``(result, ok)``. A rule violation lands on
    ``form`` (or as an error message) and gives ``(None, False)``; a missing permission is a 403."""
    try:
        return service(*args, actor=request.user, **kwargs), True
    except PermissionDeniedError as err:
        raise PermissionDenied(err.message) from err
    except DandelionError as err:
        if form is not None:
            form_error(form, err)
        else:
            messages.error(request, err.message)
        return None, False


def paginate(request, queryset, per_page: int = PAGE_SIZE, *, limit: int | None = None):
    """The page ``?page=`` of ``queryset`` (the last for a number past it, the first for nonsense)."""
    return BoundedPaginator(queryset, per_page, limit=limit).get_page(request.GET.get("page"))


def confirm_then_act(request, *, act: Callable[[], Any], title: str, question: str, cancel_url: str,
                     confirm_label: str | None = None, danger: bool = True, template: str = "core/confirm.html"):
    """GET (or an HTMX GET for a dialog): the confirmation page, whose button posts back to the same address;
    POST: ``act()``'s response. Views using it take GET and POST; permission checks come before calling it."""
    if request.method == "POST":
        return act()
    context = {"title": title, "question": question, "cancel_url": cancel_url, "action_url": request.get_full_path(),
               "confirm_label": confirm_label or _("Confirm"), "danger": danger}
    if wants_partial(request):
        return render(request, "core/partials/_confirm.html", context)
    return render(request, template, context)


__all__ = ["PAGE_SIZE", "call_service", "confirm_then_act", "form_error", "get_for", "get_visible", "paginate",
           "render_page_or_partial", "require"]
