"""Links of a post at send time: UTM tagging and Dandelion's own short links (no external shortener).

The pure part (``find_links``, ``tag_url``, ``rewrite_links``, ``utm_for``) is network-neutral and tested alone;
``prepare_text`` applies a unit's :class:`~dandelion.publishing.models.PublishingSettings` (and the post's
campaign's UTM parameters) to one variant's text, making its short links. Links are found with a plain pattern
(``http(s)://`` up to a space; trailing punctuation is left outside the link)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.utils.text import slugify
from django.utils.translation import gettext as _

URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}»"
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_VALUE = 200
CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def find_links(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each link in ``text``, trailing punctuation excluded."""
    spans = []
    for m in URL_RE.finditer(text):
        start, end = m.span()
        while end > start and text[end - 1] in TRAILING:
            end -= 1
        if end - start > len("https://"):
            spans.append((start, end))
    return spans


def rewrite_links(text: str, fn: Callable[[str], str]) -> str:
    """``text`` with each link replaced by ``fn(link)``."""
    out, pos = [], 0
    for start, end in find_links(text):
        out.append(text[pos:start])
        out.append(fn(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def tag_url(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to its query; a parameter the link already carries is kept as it is."""
    if not params:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    have = {k for k, _v in query}
    query += [(k, v) for k, v in params.items() if k not in have and v]
    return urlunsplit(parts._replace(query=urlencode(query, safe="{}")))


def clean_utm(value) -> dict[str, str]:
    """UTM parameters as stored: only the five ``utm_*`` keys, strings of at most 200 characters; ``ValueError``
    for anything else."""
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ValueError("UTM parameters are an object of utm_source, utm_medium, utm_campaign, utm_term, "  # noqa: TRY004 (one error type for the caller)
                         "utm_content.")
    out = {}
    for key, val in value.items():
        if key not in UTM_KEYS:
            raise ValueError(f"Unknown UTM parameter {key!r}: use {', '.join(UTM_KEYS)}.")
        if not isinstance(val, str) or len(val) > MAX_VALUE or "\x00" in val:
            raise ValueError(f"{key} must be text of at most {MAX_VALUE} characters.")
        if val.strip():
            out[key] = val.strip()
    return out


def utm_for(unit_utm: Mapping[str, str], campaign_utm: Mapping[str, str] | None, campaign_name: str, *,
            network: str, account: str) -> dict[str, str]:
    """The parameters for one variant: the unit's, then the campaign's over them; ``utm_campaign`` defaults to the
    campaign's name (slugified) when there is anything to tag; ``{network}`` and ``{account}`` are replaced."""
    params = dict(unit_utm or {})
    params.update(campaign_utm or {})
    if not params:
        return {}
    if campaign_name and "utm_campaign" not in params:
        params["utm_campaign"] = slugify(campaign_name) or campaign_name
    # in the canonical order (a JSON object read back from PostgreSQL's jsonb does not keep its keys' order)
    return {k: params[k].replace("{network}", network).replace("{account}", account.lstrip("@"))
            for k in UTM_KEYS if k in params}


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))


def short_link_base(conf=None) -> str:
    """Where short links live: the unit's settings' ``short_link_base`` when set, else
    ``PUBLISHING_SHORT_LINK_BASE`` (a short domain pointing at Dandelion), else the product's own address
    ``DANDELION_BASE_URL``."""
    if conf is not None and conf.short_link_base:
        return conf.short_link_base.rstrip("/")
    base = getattr(settings, "PUBLISHING_SHORT_LINK_BASE", "") or getattr(settings, "DANDELION_BASE_URL", "")
    return (base or "http://127.0.0.1:8000").rstrip("/")


def clean_base(value) -> str:
    """A short-link base address: empty, or ``http(s)://host[:port][/path]`` without query or fragment."""
    from dandelion.publishing.exceptions import InvalidRule

    value = str(value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment
            or len(value) > 200 or any(c.isspace() for c in value)):
        raise InvalidRule(_("The short-link base must be an http(s) address without query, at most 200 characters."),
                          field="short_link_base")
    return value.rstrip("/")


# --- applied to a variant (reads settings, writes short links: called by the send path, as SYSTEM) -----------------


def settings_for(unit, cache: dict | None = None):
    """The :class:`PublishingSettings` that apply to ``unit``: its own or the deepest unit above it with a row."""
    from dandelion.publishing.models import PublishingSettings
    from dandelion.publishing.services import ancestor_paths

    if cache is not None and unit.path in cache:
        return cache[unit.path]
    rows = list(PublishingSettings.objects.filter(unit__path__in=ancestor_paths(unit.path)).select_related("unit"))
    found = max(rows, key=lambda s: len(s.unit.path)) if rows else None
    if cache is not None:
        cache[unit.path] = found
    return found


def prepare_text(variant, text: str, *, cache: dict | None = None) -> str:
    """The variant's text as it goes out: its links tagged with the UTM parameters and/or shortened, per the
    settings of the post's unit and the post's campaign. Short links are made once per (variant, target)."""
    from dandelion.publishing.models import ShortLink

    post = variant.post
    conf = settings_for(post.unit, cache)
    campaign = post.campaign if post.campaign_id else None
    params = utm_for(conf.utm if conf else {}, campaign.utm if campaign else None,
                     campaign.name if campaign else "", network=variant.account.network,
                     account=variant.account.handle or "")
    shorten = bool(conf and conf.shorten_links)
    if not (params or shorten) or not find_links(text):
        return text
    existing = {s.target_url: s for s in ShortLink.objects.filter(variant=variant)} if shorten else {}
    base = short_link_base(conf)

    def one(url: str) -> str:
        target = tag_url(url, params)
        if not shorten or len(target) > 2000:
            return target
        link = existing.get(target)
        if link is None:
            link = existing[target] = ShortLink.objects.create(code=new_code(), post=post, variant=variant,
                                                               target_url=target)
        return base + link.path

    return rewrite_links(text, one)
