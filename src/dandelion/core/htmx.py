"""One view, two renders: the full page, or only the partial when HTMX asks (NetBox ``utilities/htmx.py``)."""

from __future__ import annotations

from django.shortcuts import render


def render_page_or_partial(request, template: str, partial: str, context: dict, status: int = 200):
    """Render ``partial`` for HTMX requests that target part of the page, else the whole ``template``."""
    if getattr(request, "htmx", False) and not request.htmx.boosted:
        return render(request, partial, context, status=status)
    return render(request, template, context, status=status)
