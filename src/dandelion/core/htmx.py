"""One view, two renders: the full page, or only the partial when HTMX asks (NetBox ``utilities/htmx.py``)."""

from __future__ import annotations

from django.shortcuts import render


def wants_partial(request) -> bool:
    """An HTMX request that targets part of the page (not a boosted link or form, which replaces the page)."""
    return bool(getattr(request, "htmx", False)) and not request.htmx.boosted


def render_page_or_partial(request, template: str, partial: str, context: dict, status: int = 200):
    """Render ``partial`` for HTMX requests that target part of the page, else the whole ``template``."""
    if wants_partial(request):
        return render(request, partial, context, status=status)
    return render(request, template, context, status=status)
