"""Every write to the account registry: register, update, transfer, archive/restore, secrets, CSV import, dormancy.

Each function takes keyword-only arguments including ``actor``, runs in one transaction, checks the actor's
permission on the account's unit, and writes one audit row whose ``changes`` never hold a secret.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.assets import crypto, csvio
from dandelion.assets.choices import ISO_639_1, SETTABLE_STATUSES, AccountStatus
from dandelion.assets.csvio import ImportResult
from dandelion.assets.events import account_changed
from dandelion.assets.exceptions import (
    AccountArchived,
    AccountNotArchived,
    DuplicateAccount,
    InvalidAccountData,
)
from dandelion.assets.models import OAuthApp, SocialAccount
from dandelion.assets.networks import resolve_connector
from dandelion.core import audit
from dandelion.core.actors import SYSTEM
from dandelion.core.events import emit
from dandelion.core.permissions import require_perm

logger = logging.getLogger(__name__)

PERM_ADD = "assets.add_socialaccount"
PERM_CHANGE = "assets.change_socialaccount"
PERM_ARCHIVE = "assets.delete_socialaccount"  # archiving is the registry's (soft) delete
PERM_ROTATE_SECRET = "assets.rotate_socialaccount_secret"  # only admin roles' patterns ("assets.*", "*") grant it

#: Fields copied into audit rows (the encrypted columns are never among them).
AUDIT_FIELDS = (
    "network", "connector", "handle", "external_id", "display_name", "url", "owner_unit", "owner", "status",
    "languages", "country", "followers", "connector_config", "credentials_expires_at", "last_activity_at",
    "last_error", "archived_at", "notes", "owner_left_at",
)

#: Fields ``update_account`` may change (the unit changes through ``transfer_account``, the status to or from
#: archived through ``archive_account`` / ``restore_account``, secrets through their own services).
UPDATABLE_FIELDS = frozenset({
    "network", "connector", "handle", "external_id", "display_name", "url", "owner", "status", "languages",
    "country", "followers", "connector_config", "notes", "last_error", "last_error_at",
})

NULLABLE_FIELDS = frozenset({"owner", "last_error_at"})


def _snapshot(account: SocialAccount) -> dict[str, Any]:
    return audit.snapshot(account, AUDIT_FIELDS)


def _check_unique(network: str, external_id: str, *, exclude_pk: int | None = None) -> None:
    qs = SocialAccount.objects.filter(network=network, external_id=external_id)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise DuplicateAccount(network, external_id)


def normalise_languages(value) -> list[str]:
    """``"fr en"``, ``"fr;en"``, ``["FR", "en"]`` → ``["fr", "en"]``; unknown codes raise InvalidAccountData."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.replace(";", " ").replace(",", " ").split()
    else:
        parts = [str(v).strip() for v in value]
    codes: list[str] = []
    for part in parts:
        code = part.strip().lower()
        if not code:
            continue
        if code not in ISO_639_1:
            raise InvalidAccountData(_("%(code)r is not an ISO 639-1 language code.") % {"code": part},
                                     field="languages")
        if code not in codes:
            codes.append(code)
    return codes


def normalise_country(value: str | None) -> str:
    code = (value or "").strip().upper()
    if code and (len(code) != 2 or not code.isascii() or not code.isalpha()):
        raise InvalidAccountData(_("%(code)r is not an ISO 3166-1 alpha-2 country code.") % {"code": value},
                                 field="country")
    return code


def _check_owner(owner) -> None:
    if owner is not None and not owner.is_active:
        raise InvalidAccountData(_("%(person)s is deactivated and cannot own an account.")
                                 % {"person": owner.get_username()}, field="owner")


def _check_status(status: str) -> None:
    if status not in SETTABLE_STATUSES:
        if status == AccountStatus.ARCHIVED:
            raise InvalidAccountData(_("Archive an account with the archive action."), field="status")
        raise InvalidAccountData(_("Unknown status %(status)r.") % {"status": status}, field="status")


def _save(account: SocialAccount, **kwargs) -> None:
    """Save, turning a lost race on (network, external_id) into the same clear conflict."""
    try:
        with transaction.atomic():
            account.save(**kwargs)
    except IntegrityError as exc:
        if SocialAccount.objects.filter(network=account.network, external_id=account.external_id).exclude(
            pk=account.pk
        ).exists():
            raise DuplicateAccount(account.network, account.external_id) from exc
        raise


# --- lifecycle -------------------------------------------------------------------------------------------------


@transaction.atomic
def register_account(
    *,
    actor,
    owner_unit,
    network: str,
    handle: str,
    external_id: str,
    connector: str | None = None,
    display_name: str = "",
    url: str = "",
    owner=None,
    status: str = AccountStatus.ACTIVE,
    languages=(),
    country: str = "",
    followers: int = 0,
    connector_config: dict | None = None,
    notes: str = "",
) -> SocialAccount:
    """Add an account to the registry under ``owner_unit``; a webhook secret is generated (see rotate to read it)."""
    require_perm(actor, PERM_ADD, owner_unit)
    handle, external_id = (handle or "").strip(), (external_id or "").strip()
    if not handle:
        raise InvalidAccountData(_("A handle is required."), field="handle")
    if not external_id:
        raise InvalidAccountData(_("An external id is required."), field="external_id")
    connector = resolve_connector(network, connector)
    _check_status(status)
    _check_owner(owner)
    _check_unique(network, external_id)
    account = SocialAccount(
        network=network, connector=connector, handle=handle, external_id=external_id,
        display_name=display_name or "", url=url or "", owner_unit=owner_unit, owner=owner, status=status,
        languages=normalise_languages(languages), country=normalise_country(country), followers=followers or 0,
        connector_config=connector_config or {}, notes=notes or "",
    )
    account.set_webhook_secret()
    _save(account)
    audit.record(
        actor=actor, action="assets.account.create", obj=account,
        summary=f"Registered {account} for {owner_unit.name}", changes=audit.diff({}, _snapshot(account)),
    )
    return account


@transaction.atomic
def update_account(account: SocialAccount, *, actor, **changes: Any) -> SocialAccount:
    """Change the account's descriptive fields (``UPDATABLE_FIELDS``)."""
    require_perm(actor, PERM_CHANGE, account.owner_unit)
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidAccountData(f"Cannot update {', '.join(sorted(unknown))} here.", field=min(unknown))
    if account.is_archived:
        raise AccountArchived()
    before = _snapshot(account)
    if "languages" in changes:
        changes["languages"] = normalise_languages(changes["languages"])
    if "country" in changes:
        changes["country"] = normalise_country(changes["country"])
    if "status" in changes:
        _check_status(changes["status"])
    if "owner" in changes and changes["owner"] is not None and changes["owner"].pk != account.owner_id:
        _check_owner(changes["owner"])
    for name in ("handle", "external_id"):
        if name in changes:
            changes[name] = (changes[name] or "").strip()
            if not changes[name]:
                raise InvalidAccountData(f"{name.replace('_', ' ').capitalize()} is required.", field=name)
    network = changes.get("network", account.network)
    if "network" in changes or "connector" in changes:
        connector = changes.get("connector", account.connector if "network" not in changes else None)
        changes["connector"] = resolve_connector(network, connector)
    for name, value in changes.items():
        if value is None and name in NULLABLE_FIELDS:
            setattr(account, name, None)
        elif value is None:
            setattr(account, name, {} if name == "connector_config" else ([] if name == "languages" else ""))
        else:
            setattr(account, name, value)
    if account.followers is None or account.followers == "":
        account.followers = 0
    if account.owner_left_at is not None and account.owner_id != before["owner"]:
        account.owner_left_at = None  # a new owner: the leaver's flag is resolved
    if "network" in changes or "external_id" in changes:
        _check_unique(account.network, account.external_id, exclude_pk=account.pk)
    after = _snapshot(account)
    diff = audit.diff(before, after)
    if not diff:
        return account
    _save(account)
    audit.record(actor=actor, action="assets.account.update", obj=account,
                 summary=f"Updated {account}: {', '.join(diff)}", changes=diff)
    emit(account_changed(account, actor=actor, change="update", fields=diff))
    return account


def _owner_name(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else "nobody"


def _transfer_summary(account: SocialAccount, *, from_name: str, to_name: str, from_owner, reason: str) -> str:
    """What a transfer changed, in words: the unit (from → to) when it moved, the owner (before → after) when it
    changed."""
    parts = [f"unit {from_name} → {to_name}" if from_name != to_name else f"unit {to_name} unchanged"]
    if (from_owner.pk if from_owner else None) != account.owner_id:
        parts.append(f"owner {_owner_name(from_owner)} → {_owner_name(account.owner)}")
    return f"Transferred {account}: {'; '.join(parts)}. Reason: {reason}"[:300]


@transaction.atomic
def transfer_account(account: SocialAccount, *, to_unit, new_owner=None, actor, reason: str,
                     clear_owner: bool = False) -> SocialAccount:
    """Move the account to ``to_unit`` (change permission on both units). ``new_owner`` replaces the owner;
    without it the owner stays, unless ``clear_owner``."""
    require_perm(actor, PERM_CHANGE, account.owner_unit)
    require_perm(actor, PERM_CHANGE, to_unit)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidAccountData(_("Give a reason for the transfer."), field="reason")
    if account.is_archived:
        raise AccountArchived()
    if to_unit.pk == account.owner_unit_id and (new_owner is None or new_owner.pk == account.owner_id):
        raise InvalidAccountData(_("%(account)s already belongs to %(unit)s.")
                                 % {"account": account, "unit": to_unit.name}, field="to_unit")
    if not to_unit.is_active:
        raise InvalidAccountData(_("%(unit)s is deactivated.") % {"unit": to_unit.name}, field="to_unit")
    if new_owner is not None:
        _check_owner(new_owner)
    before = _snapshot(account)
    from_name = account.owner_unit.name
    from_owner = account.owner
    account.owner_unit = to_unit
    if new_owner is not None:
        account.owner = new_owner
    elif clear_owner:
        account.owner = None
    if account.owner_id != before["owner"]:
        account.owner_left_at = None  # the transfer the leaver's flag asked for
    _save(account)
    audit.record(
        actor=actor, action="assets.account.transfer", obj=account,
        summary=_transfer_summary(account, from_name=from_name, to_name=to_unit.name, from_owner=from_owner,
                                  reason=reason),
        changes=audit.diff(before, _snapshot(account)),
    )
    emit(account_changed(account, actor=actor, change="transfer", fields=audit.diff(before, _snapshot(account)), from_unit_id=before["owner_unit"]))
    return account


@transaction.atomic
def flag_owner_left(*, owner, actor, reason: str = "") -> int:
    """``owner`` left the organisation: every live account they own is flagged "owner left" (a health flag on the
    registry and the roll-up) until someone transfers it to a new owner; the unit's admins are told through
    ``account.changed`` (change ``owner_left``). One audit row per account; flagging twice changes nothing.
    Returns how many accounts were flagged."""
    now = timezone.now()
    accounts = list(SocialAccount.objects.live().filter(owner=owner, owner_left_at__isnull=True)
                    .select_related("owner_unit").order_by("pk"))
    for account in accounts:
        require_perm(actor, PERM_CHANGE, account.owner_unit)
    for account in accounts:
        account.owner_left_at = now
        account.save(update_fields=["owner_left_at", "updated_at"])
        audit.record(
            actor=actor, action="assets.account.owner_left", obj=account,
            summary=(f"{owner.get_username()} left: {account} needs a new owner" + (f" ({reason})" if reason else ""))[:300],
            changes={"owner_left_at": [None, now]},
        )
        emit(account_changed(account, actor=actor, change="owner_left", fields=["owner_left_at"]))
    return len(accounts)


def _on_person_deactivated(sender, *, user, actor, reason: str = "", **kwargs) -> None:
    """Receiver of ``orgs.signals.person_deactivated`` (connected in ``AssetsConfig.ready``), in its transaction."""
    flag_owner_left(owner=user, actor=SYSTEM, reason=reason)


@transaction.atomic
def archive_account(account: SocialAccount, *, actor, reason: str = "") -> SocialAccount:
    """Take the account out of service (no hard delete: history and conversations keep pointing at it)."""
    require_perm(actor, PERM_ARCHIVE, account.owner_unit)
    if account.is_archived:
        raise AccountArchived(_("The account is already archived."))
    before = _snapshot(account)
    account.status = AccountStatus.ARCHIVED
    account.archived_at = timezone.now()
    _save(account)
    summary = f"Archived {account}" + (f": {reason.strip()}" if reason and reason.strip() else "")
    audit.record(actor=actor, action="assets.account.archive", obj=account, summary=summary[:300],
                 changes=audit.diff(before, _snapshot(account)))
    emit(account_changed(account, actor=actor, change="archive", fields=["status", "archived_at"]))
    return account


@transaction.atomic
def restore_account(account: SocialAccount, *, actor, status: str = AccountStatus.ACTIVE) -> SocialAccount:
    """Bring an archived account back (as active, or ``status``)."""
    require_perm(actor, PERM_ARCHIVE, account.owner_unit)
    if not account.is_archived:
        raise AccountNotArchived()
    _check_status(status)
    before = _snapshot(account)
    account.status = status
    account.archived_at = None
    _save(account)
    audit.record(actor=actor, action="assets.account.restore", obj=account, summary=f"Restored {account}",
                 changes=audit.diff(before, _snapshot(account)))
    emit(account_changed(account, actor=actor, change="restore", fields=["status", "archived_at"]))
    return account


# --- secrets ---------------------------------------------------------------------------------------------------


@transaction.atomic
def set_account_credentials(account: SocialAccount, *, credentials: dict[str, Any], expires_at: dt.datetime | None,
                            actor) -> SocialAccount:
    """Replace the stored credentials (write-only: nothing reads them back but the connector).

    An empty ``credentials`` dict clears them. The audit row names the keys set, never the values."""
    require_perm(actor, PERM_CHANGE, account.owner_unit)
    if account.is_archived:
        raise AccountArchived()
    if not isinstance(credentials, dict):
        raise InvalidAccountData(_("Credentials must be a mapping of names to values."), field="credentials")
    cleaned: dict[str, Any] = {}
    for key, value in credentials.items():
        key = str(key).strip()
        if not key:
            raise InvalidAccountData(_("Credential names cannot be empty."), field="credentials")
        cleaned[key] = value
    old_keys = account.credentials_keys if account.has_credentials else []
    old_expiry = account.credentials_expires_at
    account.set_credentials(cleaned)
    account.credentials_expires_at = expires_at if cleaned else None
    account.next_poll_at, account.poll_failures = None, 0  # new credentials: polled again at once
    account.save(update_fields=["credentials_encrypted", "credentials_version", "credentials_expires_at",
                                "next_poll_at", "poll_failures", "updated_at"])
    changes = audit.diff(
        {"credentials_keys": old_keys, "credentials_expires_at": audit._jsonable(old_expiry)},
        {"credentials_keys": sorted(cleaned), "credentials_expires_at": audit._jsonable(account.credentials_expires_at)},
    )
    if not changes:
        changes = {"credentials_keys": [old_keys, sorted(cleaned)]}  # same names, new values: still a change
    verb = "Set" if cleaned else "Cleared"
    audit.record(actor=actor, action="assets.account.set_credentials", obj=account,
                 summary=f"{verb} credentials of {account}" + (f" ({', '.join(sorted(cleaned))})" if cleaned else ""),
                 changes=changes)
    emit(account_changed(account, actor=actor, change="credentials", fields=changes))
    return account


@transaction.atomic
def rotate_webhook_secret(account: SocialAccount, *, actor) -> str:
    """Generate a new webhook secret and return it, once: it is stored encrypted and never shown again."""
    require_perm(actor, PERM_ROTATE_SECRET, account.owner_unit)
    if account.is_archived:
        raise AccountArchived()
    had_secret = account.has_webhook_secret
    secret = account.set_webhook_secret()
    account.save(update_fields=["webhook_secret_encrypted", "updated_at"])
    audit.record(actor=actor, action="assets.account.rotate_webhook_secret", obj=account,
                 summary=f"Rotated the webhook secret of {account}",
                 changes={"webhook_secret": ["set" if had_secret else "unset", "rotated"]})
    return secret


@dataclass
class KeyRotationResult:
    accounts: int = 0
    credentials: int = 0
    webhook_secrets: int = 0
    failed: list[int] = field(default_factory=list)  # account ids whose blobs no configured key decrypts


def rotate_encryption_keys(*, actor=None, batch_size: int = 500) -> KeyRotationResult:
    """Re-encrypt every credentials blob and webhook secret with the newest key (MultiFernet.rotate).

    Idempotent and safe to interrupt: each batch commits on its own and a rotated token rotates again harmlessly.
    Blobs that no configured key can decrypt are left as they are and reported."""
    result = KeyRotationResult()
    cipher = crypto.cipher()
    qs = SocialAccount.objects.exclude(credentials_encrypted="", webhook_secret_encrypted="").order_by("pk")
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                qs.filter(pk__gt=last_pk).select_for_update()
                .only("pk", "credentials_encrypted", "webhook_secret_encrypted")[:batch_size]
            )
            if not batch:
                break
            for account in batch:
                try:
                    if account.credentials_encrypted:
                        account.credentials_encrypted = cipher.rotate(account.credentials_encrypted.encode()).decode()
                        result.credentials += 1
                    if account.webhook_secret_encrypted:
                        account.webhook_secret_encrypted = cipher.rotate(
                            account.webhook_secret_encrypted.encode()).decode()
                        result.webhook_secrets += 1
                except crypto.InvalidToken:
                    result.failed.append(account.pk)
                    continue
                result.accounts += 1
            SocialAccount.objects.bulk_update(batch, ["credentials_encrypted", "webhook_secret_encrypted"])
            last_pk = batch[-1].pk
    with transaction.atomic():  # Dandelion's OAuth apps' client credentials (a handful of rows)
        for app in OAuthApp.objects.exclude(credentials_encrypted="").select_for_update():
            try:
                app.credentials_encrypted = cipher.rotate(app.credentials_encrypted.encode()).decode()
            except crypto.InvalidToken:
                continue
            app.save(update_fields=["credentials_encrypted"])
    with transaction.atomic():
        audit.record(
            actor=actor, action="assets.account.rotate_keys",
            summary=(f"Re-encrypted secrets of {result.accounts} accounts with the newest key "
                     f"({result.credentials} credentials, {result.webhook_secrets} webhook secrets, "
                     f"{len(result.failed)} failed)"),
            changes={"accounts": [None, result.accounts], "failed": [None, len(result.failed)]},
        )
    return result


# --- jobs ------------------------------------------------------------------------------------------------------


@transaction.atomic
def mark_dormant_accounts(*, actor=None, now: dt.datetime | None = None) -> int:
    """Set active accounts with no activity for ``DANDELION_DORMANT_AFTER_DAYS`` to dormant; returns how many.

    Idempotent (a conditional UPDATE: running twice changes nothing more). Accounts never active count from
    their creation. One audit row per account changed."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.DANDELION_DORMANT_AFTER_DAYS)
    from django.db.models import Q

    stale = Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created_at__lt=cutoff)
    candidates = list(
        SocialAccount.objects.select_for_update().filter(stale, status=AccountStatus.ACTIVE).select_related("owner_unit")
    )
    if not candidates:
        return 0
    changed = SocialAccount.objects.filter(pk__in=[a.pk for a in candidates], status=AccountStatus.ACTIVE).update(
        status=AccountStatus.DORMANT, updated_at=now
    )
    for account in candidates:
        last = account.last_activity_at.date().isoformat() if account.last_activity_at else "never"
        audit.record(actor=actor, action="assets.account.mark_dormant", obj=account,
                     summary=f"Marked {account} dormant (last activity: {last})",
                     changes={"status": [AccountStatus.ACTIVE.value, AccountStatus.DORMANT.value]})
    return changed


# --- poll state (connectors that fetch: e-mail, feeds) --------------------------------------------------------

#: ``last_error`` of a polling failure starts with this, so a successful poll clears its own errors only.
POLL_ERROR_PREFIX = "Polling: "
#: Consecutive transient failures after which the account's health shows the error (a blip never does).
POLL_FAILURES_BEFORE_HEALTH = 5


def claim_poll(account_id: int, *, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Take the account for one poll if it is due: a conditional UPDATE of ``next_poll_at`` (due → leased until
    ``now + lease``), so two workers never poll the same account at once and a killed worker's lease expires."""
    from django.db.models import Q

    return bool(
        SocialAccount.objects.filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now), pk=account_id)
        .exclude(status=AccountStatus.ARCHIVED)
        .update(next_poll_at=now + lease)
    )


def record_poll_success(account: SocialAccount, *, cursor: dict[str, Any], next_poll_at: dt.datetime,
                        now: dt.datetime | None = None) -> None:
    """Store the connector's cursor after a poll whose events are stored (call it in the same transaction), and
    clear a polling error from the account's health (audited: the account works again). Not audited otherwise: a
    poll is not a person's action."""
    now = now or timezone.now()
    fields = {"poll_state": dict(cursor), "last_polled_at": now, "next_poll_at": next_poll_at, "poll_failures": 0}
    cleared = account.last_error.startswith(POLL_ERROR_PREFIX)
    if cleared:
        fields.update(last_error="", last_error_at=None)
    SocialAccount.objects.filter(pk=account.pk).update(**fields)
    old_error = account.last_error
    for name, value in fields.items():
        setattr(account, name, value)
    if cleared:
        audit.record(actor=SYSTEM, action="assets.account.poll_recovered", obj=account,
                     summary=f"Polling {account} works again", changes={"last_error": [old_error, ""]})


def record_poll_failure(account: SocialAccount, *, error: str, permanent: bool, retry_at: dt.datetime,
                        now: dt.datetime | None = None) -> bool:
    """Count a failed poll and schedule the next try at ``retry_at`` (the cursor is kept). A permanent error (bad
    credentials, a feed gone) or ``POLL_FAILURES_BEFORE_HEALTH`` transient ones in a row show on the account's
    health (``last_error``; audited when it changes). Returns True when the health shows the error."""
    now = now or timezone.now()
    failures = min(account.poll_failures + 1, 32_000)
    fields: dict[str, Any] = {"poll_failures": failures, "next_poll_at": retry_at, "last_polled_at": now}
    shown = permanent or failures >= POLL_FAILURES_BEFORE_HEALTH
    message = (POLL_ERROR_PREFIX + (error or "unknown error"))[:500]
    changed = shown and message != account.last_error
    if shown:
        fields.update(last_error=message, last_error_at=now)
    SocialAccount.objects.filter(pk=account.pk).update(**fields)
    old_error = account.last_error
    for name, value in fields.items():
        setattr(account, name, value)
    if changed:
        audit.record(actor=SYSTEM, action="assets.account.poll_failed", obj=account,
                     summary=f"Polling {account} failed{' (permanent)' if permanent else ''}: {error}"[:300],
                     changes={"last_error": [old_error, message]})
    return shown


@transaction.atomic
def reset_poll_state(account: SocialAccount, *, actor) -> SocialAccount:
    """Forget the connector's cursor (the next poll starts afresh: already stored items are not duplicated, the
    inbox deduplicates by external id) and poll at once."""
    require_perm(actor, PERM_CHANGE, account.owner_unit)
    if account.is_archived:
        raise AccountArchived()
    had = sorted(account.poll_state or {})
    SocialAccount.objects.filter(pk=account.pk).update(poll_state={}, next_poll_at=None, poll_failures=0)
    account.poll_state, account.next_poll_at, account.poll_failures = {}, None, 0
    audit.record(actor=actor, action="assets.account.reset_poll_state", obj=account,
                 summary=f"Reset the polling cursor of {account}", changes={"poll_state": [had, []]})
    return account


# --- CSV import ------------------------------------------------------------------------------------------------


def _common_unit(units):
    """The deepest unit that contains all ``units`` (for the import's audit row, so its importer can read it)."""
    from dandelion.orgs.models import OrgUnit

    paths = [u.path.strip("/").split("/") for u in units]
    if not paths:
        return None
    common: list[str] = []
    for parts in zip(*paths):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    if not common:
        return None
    by_id = {str(u.pk): u for u in units}
    return by_id.get(common[-1]) or OrgUnit.objects.filter(pk=int(common[-1])).first()


@transaction.atomic
def import_accounts_csv(file, *, actor) -> ImportResult:
    """Register every account of a CSV file, or none: any invalid row (or an unreadable file) means nothing is
    written, and every problem is reported with its line number. One audit row for the whole import."""
    from dandelion.assets.networks import network_specs
    from dandelion.core.permissions import has_perm

    require_perm(actor, PERM_ADD)  # somewhere; each row's unit is checked below
    result = ImportResult()
    try:
        result.filename, text = csvio.read_upload(file)
        raw_rows, shape_errors = csvio.parse_rows(text)
    except csvio.FileRejected as exc:
        result.errors = [exc.error]
        return result
    result.rows = len(raw_rows) + len(shape_errors)
    errors = list(shape_errors)
    if not raw_rows and not shape_errors:
        result.errors = [csvio.RowError(line=0, reason="The file has a header but no accounts.")]
        return result

    checker = csvio.RowChecker(actor=actor, network_specs=network_specs(),
                               can_add_to=lambda unit: has_perm(actor, PERM_ADD, unit))
    checker.preload(raw_rows)
    valid: list[tuple[int, dict[str, Any]]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, raw in raw_rows:
        values, row_errors = checker.check(line, raw)
        key = ((raw.get("network") or "").strip().lower(), (raw.get("external_id") or "").strip())
        if all(key):
            if key in seen:
                row_errors.append(csvio.RowError(
                    line=line, column="external_id",
                    reason=f"Duplicate within the file: {key[0]} {key[1]!r} is also on line {seen[key]}."))
            else:
                seen[key] = line
        errors.extend(row_errors)
        if values is not None and not row_errors:
            valid.append((line, values))

    # duplicates of accounts already registered: one query per network present in the file
    by_network: dict[str, set[str]] = {}
    for _line, values in valid:
        by_network.setdefault(values["network"], set()).add(values["external_id"])
    existing: set[tuple[str, str]] = set()
    for network, ids in by_network.items():
        ids_list = sorted(ids)
        for i in range(0, len(ids_list), 500):
            existing.update(SocialAccount.objects.filter(network=network, external_id__in=ids_list[i:i + 500])
                            .values_list("network", "external_id"))
    for line, values in valid:
        if (values["network"], values["external_id"]) in existing:
            errors.append(csvio.RowError(
                line=line, column="external_id",
                reason=f"Duplicate of an existing account: {values['network']} {values['external_id']!r} "
                       "is already registered."))

    if errors:
        errors.sort(key=lambda e: (e.line, e.column))
        result.errors = errors[: csvio.MAX_ERRORS]
        return result

    accounts = []
    for _line, values in valid:
        account = SocialAccount(**values)
        account.set_webhook_secret()
        accounts.append(account)
    try:
        with transaction.atomic():
            created = SocialAccount.objects.bulk_create(accounts, batch_size=500)
            unit = _common_unit(list({a.owner_unit_id: a.owner_unit for a in accounts}.values()))
            units = sorted({a.owner_unit.name for a in accounts})
            audit.record(
                actor=actor, action="assets.account.import", unit=unit,
                summary=(f"Imported {len(created)} accounts from {result.filename or 'a CSV file'} into "
                         f"{', '.join(units[:5])}{' …' if len(units) > 5 else ''}")[:300],
                changes={"accounts": [0, len(created)]},
            )
    except IntegrityError:
        result.errors = [csvio.RowError(
            line=0, reason="Another import or registration added some of these accounts meanwhile; "
                           "nothing was written. Try again.")]
        return result
    result.created = len(created)
    result.account_ids = [a.pk for a in created if a.pk is not None]
    return result


# --- for other apps: what the inbox reports about an account -------------------------------------------------
# Operational facts, not configuration changes: no audit row (a busy account would write one per event); they are
# visible on the account's page and in the registry's health flags.


def note_account_activity(latest: Mapping[int, dt.datetime], *, actor=SYSTEM) -> int:
    """Move each account's ``last_activity_at`` forward to ``latest[account id]`` (never back), in one statement
    for any number of accounts. Returns how many accounts moved."""
    if not latest:
        return 0
    from django.db.models import Case, F, Q, Value, When

    later = Q()
    for pk, at in latest.items():
        later |= Q(pk=pk) & (Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at))
    return SocialAccount.objects.filter(later).update(last_activity_at=Case(
        *[When(pk=pk, then=Value(at)) for pk, at in sorted(latest.items())], default=F("last_activity_at")))


def record_account_error(account: SocialAccount, *, error: str, at: dt.datetime | None = None, actor=SYSTEM) -> None:
    """A permanent connector error on ``account`` (a revoked token, a removed page): kept as its last error."""
    at = at or timezone.now()
    SocialAccount.objects.filter(pk=account.pk).update(last_error=str(error)[:500], last_error_at=at)
    account.last_error, account.last_error_at = str(error)[:500], at


# --- tokens a connector refreshed (written back by the workers, as the system actor) ------------------------------

#: ``last_error`` of a refused token refresh starts with this (a later successful write-back clears it).
REFRESH_ERROR_PREFIX = "Token refresh: "


def store_refreshed_credentials(account_id: int, *, values: Mapping[str, Any], expires_at: dt.datetime | None,
                                based_on: int, actor=SYSTEM) -> bool:
    """Merge the tokens a connector refreshed (``values``: access token, a rotated refresh token...) into the
    account's encrypted credentials, if they are still at version ``based_on`` (the version the refresh started
    from): under a row lock, so of two workers refreshing at once the later answer never overwrites the newer token.
    Returns True when written (the version moves on; one audit row naming the keys, never their values), False when
    a newer version is stored, the account is gone or archived. Clears a refresh error from the account's health."""
    cleaned = {str(k): str(v) for k, v in values.items() if str(k).strip() and v is not None}
    if not cleaned:
        return False
    with transaction.atomic():
        account = SocialAccount.objects.select_for_update().filter(pk=account_id).first()
        if account is None or account.is_archived or account.credentials_version != based_on:
            return False
        old_expiry = account.credentials_expires_at
        credentials = account.credentials if account.has_credentials else {}
        account.set_credentials({**credentials, **cleaned})
        fields = ["credentials_encrypted", "credentials_version", "updated_at"]
        if expires_at is not None:
            account.credentials_expires_at = expires_at
            fields.append("credentials_expires_at")
        changes: dict[str, Any] = {"credentials_keys": [sorted(cleaned), sorted(cleaned)],
                                   "credentials_version": [based_on, account.credentials_version]}
        if expires_at is not None and expires_at != old_expiry:
            changes["credentials_expires_at"] = [audit._jsonable(old_expiry), audit._jsonable(expires_at)]
        if account.last_error.startswith(REFRESH_ERROR_PREFIX):
            changes["last_error"] = [account.last_error, ""]
            account.last_error, account.last_error_at = "", None
            fields += ["last_error", "last_error_at"]
        account.save(update_fields=fields)
        audit.record(actor=actor, action="assets.account.refresh_credentials", obj=account,
                     summary=f"Stored the refreshed tokens of {account} ({', '.join(sorted(cleaned))})"[:300],
                     changes=changes)
    return True


def record_refresh_refused(account_id: int, *, error: str, based_on: int, actor=SYSTEM) -> bool:
    """The network refused the account's refresh token (revoked, expired): a permanent error on its health (shown
    in the registry; audited), unless the stored credentials moved past ``based_on`` meanwhile (another worker
    refreshed, or someone reconnected the account): then nothing is recorded and False is returned."""
    message = (REFRESH_ERROR_PREFIX + (error or "refused"))[:500]
    with transaction.atomic():
        account = SocialAccount.objects.select_for_update().filter(pk=account_id).first()
        if account is None or account.credentials_version != based_on:
            return False
        if account.last_error != message:
            old = account.last_error
            account.last_error, account.last_error_at = message, timezone.now()
            account.save(update_fields=["last_error", "last_error_at", "updated_at"])
            audit.record(actor=actor, action="assets.account.refresh_refused", obj=account,
                         summary=f"The network refused to refresh the token of {account}: connect it again"[:300],
                         changes={"last_error": [old, message]})
    return True


# --- connecting an account through the network's OAuth flow ---------------------------------------------------------


class OAuthConnectionError(InvalidAccountData):
    """The network refused or failed a step of the OAuth connection (the message says which)."""


def _oauth_connector(network: str):
    """The network's default connector when it connects accounts through OAuth; ``OAuthConnectionError`` else."""
    from dandelion.connectors import registry
    from dandelion.connectors.base import OAuthConnector

    validate = resolve_connector(network, None)
    connector = registry.get(validate)
    if not isinstance(connector, OAuthConnector):
        raise OAuthConnectionError(f"Accounts on {network!r} are not connected through OAuth.", field="network")
    return connector


def oauth_networks() -> list[tuple[str, str]]:
    """``(key, label)`` of the networks whose default connector connects accounts through OAuth."""
    from dandelion.connectors import registry
    from dandelion.connectors.base import OAuthConnector
    from dandelion.connectors.errors import UnknownConnector

    found = []
    for spec in registry.networks():
        try:
            if isinstance(registry.get(spec.default_connector), OAuthConnector):
                found.append((spec.key, spec.label))
        except UnknownConnector:
            continue
    return found


@dataclass(frozen=True)
class ConnectableNetwork:
    """A network "Connect an account" offers: its default connector, whether that connector sends replies, and
    whether the user must name the account's server (a federated network)."""

    key: str
    label: str
    connector_label: str
    sends_replies: bool
    needs_instance: bool


def connectable_networks() -> list[ConnectableNetwork]:
    """The networks of :func:`oauth_networks`, described for the "Connect an account" page."""
    from dandelion.connectors import registry

    found = []
    for key, label in oauth_networks():
        connector = registry.get(registry.get_network(key).default_connector)
        found.append(ConnectableNetwork(key=key, label=label, connector_label=connector.label,
                                        sends_replies=connector.supports("reply"),
                                        needs_instance=not getattr(connector, "oauth_instance", "")))
    return found


def _oauth_client(app: OAuthApp):
    from dandelion.connectors.base import OAuthClient

    return OAuthClient(instance=app.instance, redirect_uri=app.redirect_uri, credentials=app.credentials)


def _connector_error(exc) -> OAuthConnectionError:
    return OAuthConnectionError(f"The network answered: {str(exc)[:300]}", field="instance")


def start_oauth_connection(*, actor, owner_unit, network: str, instance: str, redirect_uri: str) -> OAuthApp:
    """First step of connecting an account on ``network`` for ``owner_unit``: Dandelion's OAuth app on
    ``instance`` (registered there on first use, its client credentials stored encrypted). The caller then sends
    the user to :func:`oauth_authorize_url` with a signed ``state``. Audited when an app is registered."""
    require_perm(actor, PERM_ADD, owner_unit)
    return register_oauth_app(actor=actor, network=network, instance=instance, redirect_uri=redirect_uri)


def register_oauth_app(*, actor, network: str, instance: str, redirect_uri: str) -> OAuthApp:
    """Dandelion's OAuth app on ``instance`` for ``redirect_uri`` (registered there on first use, its client
    credentials stored encrypted; audited then). No permission of its own: the caller checks what the connection
    is for (a unit's account here, a person's own account in ``publishing.advocacy``)."""
    from dandelion.connectors.errors import ConnectorError

    connector = _oauth_connector(network)
    instance = (instance or "").strip() or getattr(connector, "oauth_instance", "")
    if not instance:
        raise InvalidAccountData(_("An instance URL is required."), field="instance")
    app = _find_oauth_app(network, instance, redirect_uri)
    if app is not None:
        return app
    try:  # a network call: outside any transaction
        client = connector.oauth_register(instance=instance, redirect_uri=redirect_uri)
    except ConnectorError as exc:
        raise _connector_error(exc) from exc
    with transaction.atomic():
        app, created = OAuthApp.objects.get_or_create(network=network, instance=client.instance,
                                                      redirect_uri=client.redirect_uri)
        if created or not app.credentials_encrypted:
            app.set_credentials(dict(client.credentials))
            app.save(update_fields=["credentials_encrypted", "updated_at"])
            audit.record(actor=actor, action="assets.oauth_app.register", obj=app,
                         summary=f"Registered Dandelion as an OAuth app on {client.instance} ({network})",
                         changes={"instance": [None, client.instance], "redirect_uri": [None, client.redirect_uri],
                                  "credentials_keys": [None, sorted(client.credentials)]})
    return app


def _find_oauth_app(network: str, instance: str, redirect_uri: str) -> OAuthApp | None:
    wanted = instance.rstrip("/").lower()
    if "://" not in wanted:
        wanted = f"https://{wanted}"
    return (OAuthApp.objects.filter(network=network, instance__iexact=wanted, redirect_uri=redirect_uri)
            .exclude(credentials_encrypted="").first())


def oauth_authorize_url(app: OAuthApp, *, state: str) -> str:
    """Where to send the user to consent (the network's screen), carrying ``state``."""
    from dandelion.connectors.errors import ConnectorError

    try:
        return _oauth_connector(app.network).oauth_authorize_url(_oauth_client(app), state=state)
    except ConnectorError as exc:
        raise _connector_error(exc) from exc


def exchange_oauth_code(app: OAuthApp, *, code: str):
    """Trade the network's ``code`` for the account's ``OAuthGrant`` (a network call: call it outside any
    transaction); ``OAuthConnectionError`` with the network's answer when refused."""
    from dandelion.connectors.errors import ConnectorError

    try:
        return _oauth_connector(app.network).oauth_exchange(_oauth_client(app), code=code)
    except ConnectorError as exc:
        raise _connector_error(exc) from exc


def complete_oauth_connection(*, actor, owner_unit, app: OAuthApp, code: str) -> tuple[SocialAccount, bool]:
    """Last step: trade the network's ``code`` for the account's credentials and store them, encrypted, on the
    account: a new one registered under ``owner_unit``, or the registry's existing account with that network id
    (linked: its credentials replaced, its connector error cleared). ``(account, created)``; one audit row."""
    require_perm(actor, PERM_ADD, owner_unit)
    grant = exchange_oauth_code(app, code=code)
    with transaction.atomic():
        account = (SocialAccount.objects.select_for_update()
                   .filter(network=app.network, external_id=grant.external_id).first())
        created = account is None
        if created:
            account = SocialAccount(network=app.network, connector=resolve_connector(app.network, None),
                                    handle=grant.handle, external_id=grant.external_id,
                                    display_name=grant.display_name, url=grant.url, owner_unit=owner_unit,
                                    owner=actor if getattr(actor, "pk", None) else None,
                                    connector_config=dict(grant.config))
            account.set_webhook_secret()
            before: dict[str, Any] = {}
        else:
            require_perm(actor, PERM_CHANGE, account.owner_unit)
            if account.is_archived:
                raise AccountArchived()
            before = _snapshot(account)
            account.handle = grant.handle or account.handle
            account.connector_config = {**(account.connector_config or {}), **dict(grant.config)}
            account.last_error, account.last_error_at = "", None
        account.set_credentials(dict(grant.credentials))
        account.credentials_expires_at = grant.expires_at
        account.next_poll_at, account.poll_failures = None, 0
        _save(account)
        changes = audit.diff(before, _snapshot(account))
        changes["credentials_keys"] = [None, sorted(grant.credentials)]
        audit.record(actor=actor, action="assets.account.oauth_connect", obj=account,
                     summary=(f"{'Connected' if created else 'Reconnected'} {account} through {app.instance}'s "
                              "OAuth consent"), changes=changes)
        emit(account_changed(account, actor=actor, change="credentials", fields=changes))
    return account, created
