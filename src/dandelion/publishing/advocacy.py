"""Employee advocacy: a unit's library of approved content that its members share to their own linked accounts.

* **Items** (``publishing.add_advocacyitem`` on the unit: spoke admins and the hub): an approved (or scheduled,
  or published) post of the unit's subtree, or an item written for the library: a title, a link, and a suggested
  text per language. Visible to the members of the unit's whole subtree.
* **Personal accounts**: a member registers their own account on a network (``publishing.share_advocacyitem`` on
  the unit they share for); only its owner shares through it.
* **Share**: the owner of a personal account shares an item of a library at or above the account's unit, once per
  item and account, with the suggested text edited as they like (it must fit the network, counted as that network
  counts). Each link of the text becomes a short link of the share (``/l/<code>``, tagged ``utm_medium=advocacy``),
  so clicks count; the post goes through the account's connector (capability ``publishing``) with a stable
  idempotency key. Shares and clicks are counted **per spoke** (the account's unit): :func:`item_stats`.

Every write is audited (``publishing.advocacy.item_create / item_update / account_register / share``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, Capability, OutboundPost
from dandelion.connectors.errors import ConnectorError, UnknownConnector
from dandelion.connectors.text_limits import measure
from dandelion.core import audit
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.permissions import get_grants, require_perm, role_allows
from dandelion.publishing import links
from dandelion.publishing.choices import PostState, ShareState
from dandelion.publishing.exceptions import InvalidPost, InvalidTransition
from dandelion.publishing.models import AdvocacyItem, AdvocacyShare, PersonalAccount, Post, ShortLink
from dandelion.publishing.services import ancestor_paths

PERM_ADD = "publishing.add_advocacyitem"
PERM_CHANGE = "publishing.change_advocacyitem"
PERM_VIEW = "publishing.view_advocacyitem"
PERM_SHARE = "publishing.share_advocacyitem"

#: The post states whose content is approved, so may enter the library.
APPROVED_STATES = (PostState.APPROVED, PostState.SCHEDULED, PostState.PUBLISHED)
MAX_TEXTS = 20
MAX_TEXT = 5000


# --- library -------------------------------------------------------------------------------------------------------


def share_units(user) -> list[str]:
    """The paths of the units where ``user`` may share (a grant allowing ``PERM_SHARE``)."""
    return sorted({g.unit_path for g in get_grants(user) if role_allows(g.role, PERM_SHARE)})


def library_for(user):
    """The active items ``user`` may share: those of a unit at or above one where they may share."""
    paths = {p for unit_path in share_units(user) for p in ancestor_paths(unit_path)}
    if not paths:
        return AdvocacyItem.objects.none()
    return AdvocacyItem.objects.filter(unit__path__in=sorted(paths), is_active=True).select_related(
        "unit", "post"
    )


def _clean_texts(texts) -> dict[str, str]:
    if not isinstance(texts, Mapping):
        raise InvalidPost(_("Suggested texts are a mapping of language to text."), field="suggested_texts")
    if len(texts) > MAX_TEXTS:
        raise InvalidPost(_("At most %(n)d suggested texts.") % {"n": MAX_TEXTS}, field="suggested_texts")
    out = {}
    for lang, text in texts.items():
        lang, text = str(lang).strip().lower()[:8], str(text or "").strip()
        if not lang or not text:
            continue
        if len(text) > MAX_TEXT or "\x00" in text:
            raise InvalidPost(
                _("A suggested text is too long (%(n)d characters at most).") % {"n": MAX_TEXT},
                field="suggested_texts",
            )
        out[lang] = text
    return out


def create_item(
    *, actor, unit, title: str = "", url: str = "", suggested_texts=None, post: Post | None = None
) -> AdvocacyItem:
    """Add an item to ``unit``'s library: an approved post of its subtree (its text suggested in the unit's first
    language unless texts are given) or an item written here (title and at least one suggested text)."""
    require_perm(actor, PERM_ADD, unit)
    texts = _clean_texts(suggested_texts or {})
    if post is not None:
        if not post.unit.path.startswith(unit.path):
            raise InvalidPost(_("The post is not in this unit's subtree."), field="post")
        if post.state not in APPROVED_STATES:
            raise InvalidPost(
                _("Only an approved, scheduled or published post may enter the library."), field="post"
            )
        if not texts:
            texts = {((unit.languages or ["en"])[0])[:8]: post.text}
        title = title or post.title or post.text[:80]
    title = (title or "").strip()[:200]
    if not title:
        raise InvalidPost(_("A title is required."), field="title")
    if not texts:
        raise InvalidPost(_("At least one suggested text is required."), field="suggested_texts")
    with transaction.atomic():
        item = AdvocacyItem.objects.create(
            unit=unit, post=post, title=title, url=(url or "")[:2000], suggested_texts=texts, created_by=actor
        )
        audit.record(
            actor=actor,
            action="publishing.advocacy.item_create",
            obj=item,
            summary=f"Advocacy item “{item.title}”",
            changes={"languages": [None, sorted(texts)]},
        )
    return item


def update_item(item: AdvocacyItem, *, actor, **fields) -> AdvocacyItem:
    """Edit an item's title, link, texts or withdraw it (``is_active``)."""
    require_perm(actor, PERM_CHANGE, item.unit)
    changes = {}
    if "suggested_texts" in fields:
        fields["suggested_texts"] = _clean_texts(fields["suggested_texts"])
        if not fields["suggested_texts"]:
            raise InvalidPost(_("At least one suggested text is required."), field="suggested_texts")
    with transaction.atomic():
        for name in ("title", "url", "suggested_texts", "is_active"):
            if name in fields and fields[name] != getattr(item, name):
                changes[name] = [getattr(item, name), fields[name]]
                setattr(item, name, fields[name])
        if changes:
            item.save()
            audit.record(
                actor=actor,
                action="publishing.advocacy.item_update",
                obj=item,
                summary=f"Advocacy item “{item.title}” edited",
                changes=changes,
            )
    return item


# --- personal accounts ----------------------------------------------------------------------------------------------


def register_personal_account(
    *, actor, unit, network: str, handle: str, external_id: str, connector: str = "sandbox"
) -> PersonalAccount:
    """A member links their own account (registered to them, for ``unit``: a unit where they may share)."""
    require_perm(actor, PERM_SHARE, unit)
    network, handle, external_id = (
        (network or "").strip()[:40],
        (handle or "").strip()[:150],
        (external_id or "").strip()[:150],
    )
    if not (network and handle and external_id):
        raise InvalidPost(_("A network, a handle and the network's account id are required."), field="handle")
    try:
        registry.get(connector)
    except UnknownConnector as exc:
        raise InvalidPost(_("Unknown connector: %(key)s.") % {"key": connector}, field="connector") from exc
    try:
        with transaction.atomic():
            account = PersonalAccount.objects.create(
                user=actor,
                unit=unit,
                network=network,
                handle=handle,
                external_id=external_id,
                connector=connector,
            )
            audit.record(
                actor=actor,
                action="publishing.advocacy.account_register",
                obj=account,
                summary=f"Personal account {account} registered",
            )
    except IntegrityError as exc:
        raise InvalidPost(_("This account is already registered."), field="external_id") from exc
    return account


# --- personal accounts connected through the network's OAuth consent -------------------------------------------------


def start_personal_connection(*, actor, unit, network: str, instance: str, redirect_uri: str):
    """First step of connecting one's own account on ``network`` (to share for ``unit``, a unit where ``actor`` may
    share): Dandelion's OAuth app on ``instance`` (the same registry of apps as the accounts' "Connect an
    account", ``assets.services.register_oauth_app``). The caller then sends the person to
    :func:`personal_authorize_url` with a signed ``state``."""
    from dandelion.assets import services as asset_services

    require_perm(actor, PERM_SHARE, unit)
    return asset_services.register_oauth_app(actor=actor, network=network, instance=instance,
                                             redirect_uri=redirect_uri)


def personal_authorize_url(app, *, state: str) -> str:
    from dandelion.assets import services as asset_services

    return asset_services.oauth_authorize_url(app, state=state)


def complete_personal_connection(*, actor, unit, app, code: str) -> tuple[PersonalAccount, bool]:
    """Last step: trade the network's ``code`` for the person's token, stored encrypted on their personal account
    (a new one, owned by ``actor`` and sharing for ``unit``; or theirs again, reconnected). An account that another
    person already linked is refused. ``(account, created)``; one audit row (the token's names, never its value)."""
    from dandelion.assets import services as asset_services
    from dandelion.assets.networks import resolve_connector

    require_perm(actor, PERM_SHARE, unit)
    grant = asset_services.exchange_oauth_code(app, code=code)  # a network call: outside the transaction
    with transaction.atomic():
        account = (PersonalAccount.objects.select_for_update()
                   .filter(network=app.network, external_id=grant.external_id).first())
        created = account is None
        if created:
            account = PersonalAccount(user=actor, network=app.network, external_id=grant.external_id[:150])
        elif account.user_id != actor.pk:
            raise InvalidPost(_("This account is already linked by someone else."), field="network")
        account.unit = unit
        account.handle = (grant.handle or account.handle or grant.external_id)[:150]
        account.connector = resolve_connector(app.network, None)
        account.connector_config = dict(grant.config)
        account.instance = app.instance[:300]
        account.set_credentials(dict(grant.credentials))
        account.credentials_expires_at = grant.expires_at
        account.is_active, account.revoked_at = True, None
        account.save()
        audit.record(
            actor=actor,
            action="publishing.advocacy.account_connect",
            obj=account,
            summary=f"Personal account {account} {'connected' if created else 'reconnected'} through "
                    f"{app.instance}'s OAuth consent"[:300],
            changes={"credentials_keys": [None, sorted(grant.credentials)], "unit": [None, unit.pk]},
        )
    return account, created


def revoke_personal_account(account: PersonalAccount, *, actor) -> PersonalAccount:
    """Its owner disconnects a personal account: the token is erased at once and nothing is shared through it
    any more (its past shares and their clicks stay counted). Only the owner may. Audited; a second call is a
    no-op."""
    if account.user_id != getattr(actor, "pk", None):
        raise PermissionDeniedError(_("Only its owner may disconnect a personal account."))
    with transaction.atomic():
        account = PersonalAccount.objects.select_for_update().get(pk=account.pk)
        if not account.is_active and not account.credentials_encrypted:
            return account
        had = sorted(account.credentials)
        account.set_credentials({})
        account.credentials_expires_at = None
        account.is_active, account.revoked_at = False, timezone.now()
        account.save(update_fields=["credentials_encrypted", "credentials_expires_at", "is_active", "revoked_at"])
        audit.record(actor=actor, action="publishing.advocacy.account_revoke", obj=account,
                     summary=f"Personal account {account} disconnected by its owner",
                     changes={"credentials_keys": [had, []], "is_active": [True, False]})
    return account


# --- sharing --------------------------------------------------------------------------------------------------------


def _ref(account: PersonalAccount) -> AccountRef:
    return AccountRef(
        id=account.pk,
        network=account.network,
        external_id=account.external_id,
        handle=account.handle,
        connector=account.connector,
        credentials=account.credentials,
        config=dict(account.connector_config or {}),
    )


def _shorten(share: AdvocacyShare, text: str) -> str:
    """Each link of the share's text → its own short link (tagged ``utm_medium=advocacy``, ``utm_source`` the
    network), so clicks count per share and so per spoke."""
    if not links.find_links(text):
        return text
    params = {"utm_medium": "advocacy", "utm_source": share.account.network}
    base, made = links.short_link_base(links.settings_for(share.unit)), {}

    def one(url: str) -> str:
        target = links.tag_url(url, params)
        if len(target) > 2000:
            return target
        if target not in made:
            made[target] = ShortLink.objects.create(code=links.new_code(), share=share, target_url=target)
        return base + made[target].path

    return links.rewrite_links(text, one)


def share_item(
    item: AdvocacyItem, *, actor, account: PersonalAccount, text: str | None = None
) -> AdvocacyShare:
    """``actor`` shares ``item`` on their own ``account`` with ``text`` (the suggested text when empty)."""
    if account.user_id != getattr(actor, "pk", None) or not account.is_active:
        raise InvalidPost(_("You may share only through your own linked accounts."), field="account")
    require_perm(actor, PERM_SHARE, account.unit)
    if not item.is_active or not account.unit.path.startswith(item.unit.path):
        raise InvalidPost(_("This item is not in the library of your account's unit."), field="item")
    text = (text or "").strip() or item.text_for(account.unit.languages)
    if item.url and item.url not in text:
        text = f"{text} {item.url}"
    if "\x00" in text or len(text) > 20000:
        raise InvalidPost(_("The text is not valid."), field="text")
    if AdvocacyShare.objects.filter(item=item, account=account, state=ShareState.SENT).exists():
        raise InvalidTransition(
            _("You already shared this item on %(account)s.") % {"account": account.handle}
        )
    try:
        with transaction.atomic():  # the share and its short links, or nothing (too long: rolled back)
            AdvocacyShare.objects.filter(item=item, account=account, state=ShareState.FAILED).delete()
            share = AdvocacyShare.objects.create(
                item=item, account=account, user=actor, unit=account.unit, text=text
            )
            out = _shorten(share, text)
            fits = measure(account.network, out)
            if not fits.ok:
                raise InvalidPost(
                    _("Too long for %(network)s: %(count)d of %(limit)d.")
                    % {"network": account.network, "count": fits.length, "limit": fits.limit},
                    field="text",
                )
    except IntegrityError as exc:  # a concurrent share of the same item on the same account won
        raise InvalidTransition(
            _("You already shared this item on %(account)s.") % {"account": account.handle}
        ) from exc
    ref = _ref(account)
    try:
        connector = registry.connector_for(ref)
        if not connector.supports(Capability.PUBLISHING, ref.config):
            raise ConnectorError(_("This account's connector cannot publish."), permanent=True)
        sent = connector.publish(ref, OutboundPost(text=out, idempotency_key=f"advocacy-{share.pk}"))
        share.external_id, share.state = sent.external_id[:200], ShareState.SENT
    except (ConnectorError, UnknownConnector) as exc:
        share.state, share.error = ShareState.FAILED, str(getattr(exc, "message", exc))[:500]
    share.save(update_fields=["external_id", "state", "error"])
    audit.record(
        actor=actor,
        action="publishing.advocacy.share",
        obj=share,
        summary=f"Shared “{item.title}” on {account}",
        changes={"state": [None, share.state]},
    )
    return share


# --- counts per spoke -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpokeCount:
    unit_id: int
    unit_name: str
    shares: int
    clicks: int


def item_stats(item: AdvocacyItem, *, actor) -> list[SpokeCount]:
    """Shares (sent) and clicks of ``item`` per spoke (the sharing account's unit), for those who may view the
    item's unit (two queries)."""
    require_perm(actor, PERM_VIEW, item.unit)
    shares = {
        row["unit"]: row
        for row in AdvocacyShare.objects.filter(item=item, state=ShareState.SENT)
        .values("unit", "unit__name")
        .annotate(n=Count("id"))
        .order_by()
    }
    clicks = dict(
        ShortLink.objects.filter(share__item=item)
        .values("share__unit")
        .annotate(c=Sum("clicks"))
        .order_by()
        .values_list("share__unit", "c")
    )
    rows = [
        SpokeCount(unit_id=u, unit_name=r["unit__name"], shares=r["n"], clicks=int(clicks.get(u) or 0))
        for u, r in shares.items()
    ]
    return sorted(rows, key=lambda r: (-r.shares, r.unit_name))


def managed_items(user):
    """The items whose counts ``user`` may see (``view`` on the item's unit)."""
    return (
        AdvocacyItem.objects.restrict(user, "view")
        .select_related("unit")
        .annotate(share_count=Count("shares", filter=Q(shares__state=ShareState.SENT)))
    )
