"""The hub's governance of the websites, as pure functions over plain data (no database).

A template's starter page may say ``"required": true`` (the page must exist on every site built from it, live,
under its slug: it cannot be deleted, unpublished or renamed) and ``"must_show": [<block>, ...]`` (the blocks the
page must keep, e.g. the unit's official accounts). The page form (``page_forms.WebsitePageForm``), the admin's
delete/unpublish hooks (``wagtail_hooks``) and the consistency report (``services.consistency_report``) all ask
these functions, so the rule is written once.

Page text is also checked against the hub's guideline rules (the publishing app's checks: banned terms, link
domains...) and for headings that skip a level (an accessibility rule of the websites themselves).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

HOME = ""  # the key of the home page's rules (its slug is the site's own)
HEADING_RE = re.compile(r"<h([1-6])\b", re.IGNORECASE)
HREF_RE = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
TAG_RE = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class PageRule:
    """What the template asks of one of its pages."""

    slug: str
    title: str
    required: bool
    must_show: tuple[str, ...]


def page_rules(starter_pages: Sequence[Mapping]) -> dict[str, PageRule]:
    """The template's rules by page key: ``HOME`` for the first starter page, its slug for the others."""
    rules = {}
    for n, spec in enumerate(starter_pages or []):
        key = HOME if n == 0 else str(spec.get("slug", ""))
        rules[key] = PageRule(slug=key, title=str(spec.get("title", "")),
                              required=bool(spec.get("required")) or n == 0,
                              must_show=tuple(str(b) for b in spec.get("must_show", []) or []))
    return rules


def missing_blocks(block_types: Iterable[str], rule: PageRule | None) -> list[str]:
    """The must-show blocks a page's body lacks (in the template's order)."""
    if rule is None:
        return []
    present = set(block_types)
    return [name for name in rule.must_show if name not in present]


def missing_pages(live_slugs: Iterable[str], rules: Mapping[str, PageRule]) -> list[str]:
    """The required pages (slugs below the home page) a site does not have live."""
    have = set(live_slugs)
    return [key for key, rule in rules.items() if key != HOME and rule.required and key not in have]


def texts_of(value) -> list[str]:
    """Every string in a StreamField's raw data (``stream_data``-like lists and dicts), rich text as its HTML."""
    out: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            if node.strip():
                out.append(node)
        elif isinstance(node, Mapping):
            for key, item in node.items():
                if key not in ("type", "id", "level", "include_parents"):
                    walk(item)
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)

    walk(value)
    return out


def plain_text(html: str) -> str:
    """Rich text's words, with each link's address kept (the link-domain rule reads them)."""
    links = " ".join(HREF_RE.findall(html))
    return (TAG_RE.sub(" ", html) + (" " + links if links else "")).strip()


def heading_problems(html: str, *, page_level: int = 1) -> list[str]:
    """Headings that skip a level (the page title is the h1): an ``h4`` right after an ``h2`` is one."""
    problems = []
    previous = page_level
    for match in HEADING_RE.finditer(html):
        level = int(match.group(1))
        if level == 1:
            problems.append(_("A heading of level 1 inside the page (the page title is its only h1)."))
        elif level > previous + 1:
            problems.append(_("A heading of level %(level)s follows one of level %(previous)s: no level may be "
                              "skipped.") % {"level": level, "previous": previous})
        previous = level
    return problems
