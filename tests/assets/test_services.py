"""Services of the account registry: each write checks permission and leaves one audit row without secrets."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from dandelion.assets import services
from dandelion.assets.choices import AccountStatus, HealthFlag
from dandelion.assets.exceptions import (
    AccountArchived,
    DuplicateAccount,
    InvalidAccountData,
)
from dandelion.assets.models import SocialAccount
from dandelion.core.exceptions import ConflictError, PermissionDeniedError
from dandelion.core.models import AuditEvent
from tests.assets.conftest import PLAINTEXT
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def audit_rows(action):
    return list(AuditEvent.objects.filter(action=action))


def register(org, actor=None, **kw):
    data = {"owner_unit": org.france, "network": "facebook", "handle": "@new_fr", "external_id": "fb-new"}
    data.update(kw)
    return services.register_account(actor=actor or org.users.fr_admin, **data)


def test_register_account_defaults_and_audit(org):
    account = register(org, languages="FR; en", country="fr", owner=org.users.fr_cm)
    assert account.connector == "facebook"  # the network's default connector, from the registry
    assert account.languages == ["fr", "en"] and account.country == "FR"
    assert account.has_webhook_secret
    [event] = audit_rows("assets.account.create")
    assert event.actor == org.users.fr_admin and event.unit == org.france
    assert event.changes["handle"] == [None, "@new_fr"]
    assert all(isinstance(v, list) and len(v) == 2 for v in event.changes.values())
    assert "webhook_secret_encrypted" not in event.changes and "credentials_encrypted" not in event.changes


def test_register_validates_network_connector_and_duplicates(org):
    with pytest.raises(InvalidAccountData, match="Unknown network"):
        register(org, network="myspace")
    with pytest.raises(InvalidAccountData, match="Unknown connector"):
        register(org, connector="nope")
    assert register(org, connector="fake", external_id="x1").connector == "fake"
    with pytest.raises(DuplicateAccount) as exc:
        register(org, external_id="fb-fr")  # the org fixture's French account
    assert isinstance(exc.value, ConflictError) and exc.value.status_code == 409
    assert "already registered" in exc.value.message
    with pytest.raises(InvalidAccountData, match="ISO 639-1"):
        register(org, external_id="x2", languages="french")


def test_register_requires_add_permission_on_the_unit(org):
    with pytest.raises(PermissionDeniedError):
        register(org, actor=org.users.fr_admin, owner_unit=org.spain)
    with pytest.raises(PermissionDeniedError):
        register(org, actor=org.users.analyst)
    assert register(org, actor=org.users.fr_cm).owner_unit == org.france
    assert not AuditEvent.objects.filter(action="assets.account.create", actor=org.users.analyst).exists()


def test_update_account(org):
    account = org.fr_account
    services.update_account(account, actor=org.users.fr_cm, display_name="Brand France", followers=12)
    account.refresh_from_db()
    assert account.display_name == "Brand France" and account.followers == 12
    [event] = audit_rows("assets.account.update")
    assert event.changes == {"display_name": [event.changes["display_name"][0], "Brand France"],
                             "followers": [0, 12]}
    with pytest.raises(DuplicateAccount):
        services.update_account(account, actor=org.users.fr_admin, network="instagram", external_id="ig-es")
    with pytest.raises(InvalidAccountData):
        services.update_account(account, actor=org.users.fr_admin, owner_unit=org.spain)
    with pytest.raises(InvalidAccountData):
        services.update_account(account, actor=org.users.fr_admin, status=AccountStatus.ARCHIVED)
    with pytest.raises(PermissionDeniedError):
        services.update_account(account, actor=org.users.analyst, display_name="x")
    with pytest.raises(PermissionDeniedError):
        services.update_account(org.es_account, actor=org.users.fr_admin, display_name="x")
    # nothing changed: no audit row
    services.update_account(account, actor=org.users.fr_admin, display_name="Brand France")
    assert len(audit_rows("assets.account.update")) == 1


def test_transfer_needs_change_on_both_units(org):
    account = org.fr_account
    with pytest.raises(PermissionDeniedError):
        services.transfer_account(account, to_unit=org.spain, actor=org.users.fr_admin, reason="reorg")
    with pytest.raises(InvalidAccountData, match="reason"):
        services.transfer_account(account, to_unit=org.spain, actor=org.users.europe_admin, reason=" ")
    services.transfer_account(account, to_unit=org.spain, new_owner=org.users.es_admin,
                              actor=org.users.europe_admin, reason="Spain runs it now")
    account.refresh_from_db()
    assert account.owner_unit == org.spain and account.owner == org.users.es_admin
    [event] = audit_rows("assets.account.transfer")
    assert "Spain runs it now" in event.summary
    assert event.changes["owner_unit"] == [org.france.pk, org.spain.pk]
    assert event.unit == org.spain
    # the French admin no longer sees it
    assert not SocialAccount.objects.restrict(org.users.fr_admin).filter(pk=account.pk).exists()


def test_archive_and_restore(org):
    account = org.fr_account
    with pytest.raises(PermissionDeniedError):  # community managers cannot archive
        services.archive_account(account, actor=org.users.fr_cm)
    services.archive_account(account, actor=org.users.fr_admin, reason="brand retired")
    account.refresh_from_db()
    assert account.status == AccountStatus.ARCHIVED and account.archived_at is not None
    assert account.health_flags() == []
    with pytest.raises(AccountArchived):
        services.archive_account(account, actor=org.users.fr_admin)
    with pytest.raises(AccountArchived):
        services.update_account(account, actor=org.users.fr_admin, display_name="x")
    services.restore_account(account, actor=org.users.fr_admin)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.archived_at is None
    assert len(audit_rows("assets.account.archive")) == 1 and len(audit_rows("assets.account.restore")) == 1
    assert SocialAccount.objects.filter(pk=account.pk).exists()  # never hard-deleted


def test_set_credentials_is_write_only_and_audited_without_values(org):
    account = org.fr_account
    expires = timezone.now() + dt.timedelta(days=60)
    services.set_account_credentials(account, credentials={"access_token": PLAINTEXT, "page_id": "42"},
                                     expires_at=expires, actor=org.users.fr_cm)
    account.refresh_from_db()
    assert account.credentials == {"access_token": PLAINTEXT, "page_id": "42"}
    assert account.credentials_keys == ["access_token", "page_id"]
    assert PLAINTEXT not in account.credentials_encrypted
    [event] = audit_rows("assets.account.set_credentials")
    assert PLAINTEXT not in json.dumps(event.changes) and PLAINTEXT not in event.summary
    assert event.changes["credentials_keys"] == [[], ["access_token", "page_id"]]
    with pytest.raises(PermissionDeniedError):
        services.set_account_credentials(account, credentials={"a": "b"}, expires_at=None, actor=org.users.analyst)
    services.set_account_credentials(account, credentials={}, expires_at=None, actor=org.users.fr_admin)
    account.refresh_from_db()
    assert not account.has_credentials and account.credentials_expires_at is None


def test_rotate_webhook_secret_admins_only(org):
    account = org.fr_account
    old = account.webhook_secret
    secret = services.rotate_webhook_secret(account, actor=org.users.fr_admin)
    account.refresh_from_db()
    assert secret != old and account.webhook_secret == secret
    assert secret not in account.webhook_secret_encrypted
    [event] = audit_rows("assets.account.rotate_webhook_secret")
    assert secret not in json.dumps(event.changes) and secret not in event.summary
    assert services.rotate_webhook_secret(account, actor=org.users.hub_admin)
    for user in (org.users.fr_cm, org.users.analyst, org.users.fr_agent, org.users.es_admin, org.users.moderator):
        with pytest.raises(PermissionDeniedError):
            services.rotate_webhook_secret(account, actor=user)


def test_health_flags_and_queryset_filters_agree(org, settings):
    now = timezone.now()
    gone = UserFactory(username="gone", is_active=False)
    accounts = {
        HealthFlag.NO_OWNER: SocialAccountFactory(owner_unit=org.france, owner=None),
        HealthFlag.OWNER_DEACTIVATED: SocialAccountFactory(owner_unit=org.france, owner=gone),
        HealthFlag.CREDENTIALS_EXPIRED: SocialAccountFactory(owner_unit=org.france, owner=org.users.fr_cm,
                                                             credentials_expires_at=now - dt.timedelta(days=1)),
        HealthFlag.CREDENTIALS_EXPIRING: SocialAccountFactory(owner_unit=org.france, owner=org.users.fr_cm,
                                                              credentials_expires_at=now + dt.timedelta(days=3)),
        HealthFlag.DORMANT: SocialAccountFactory(owner_unit=org.france, owner=org.users.fr_cm,
                                                 last_activity_at=now - dt.timedelta(days=90)),
        HealthFlag.CONNECTOR_ERROR: SocialAccountFactory(owner_unit=org.france, owner=org.users.fr_cm,
                                                         last_error="token revoked"),
    }
    healthy = SocialAccountFactory(owner_unit=org.france, owner=org.users.fr_cm, last_activity_at=now)
    for flag, account in accounts.items():
        assert flag in account.health_flags(now)
        assert SocialAccount.objects.with_health(flag, now).filter(pk=account.pk).exists(), flag
        assert not SocialAccount.objects.with_health(flag, now).filter(pk=healthy.pk).exists(), flag
    assert healthy.health_flags(now) == []
    assert healthy.health_badges(now) == []
    assert accounts[HealthFlag.DORMANT].health_badges(now) == [{"flag": "dormant", "label": "Dormant",
                                                                  "level": "warn"}]


def test_mark_dormant_accounts_is_idempotent(org):
    now = timezone.now()
    stale = SocialAccountFactory(owner_unit=org.france, last_activity_at=now - dt.timedelta(days=45))
    fresh = SocialAccountFactory(owner_unit=org.france, last_activity_at=now - dt.timedelta(days=1))
    archived = SocialAccountFactory(owner_unit=org.france, status=AccountStatus.ARCHIVED,
                                    last_activity_at=now - dt.timedelta(days=400))
    assert services.mark_dormant_accounts(now=now) == 1
    assert services.mark_dormant_accounts(now=now) == 0
    stale.refresh_from_db(), fresh.refresh_from_db(), archived.refresh_from_db()
    assert (stale.status, fresh.status, archived.status) == ("dormant", "active", "archived")
    [event] = audit_rows("assets.account.mark_dormant")
    assert event.actor_repr == "system" and event.changes == {"status": ["active", "dormant"]}
    # never-active accounts count from their creation
    SocialAccount.objects.filter(pk=fresh.pk).update(last_activity_at=None,
                                                     created_at=now - dt.timedelta(days=60))
    assert services.mark_dormant_accounts(now=now) == 1


def test_dormant_job_is_registered():
    from dandelion.assets import jobs
    from dandelion.core.jobs import periodic_jobs

    assert "assets.mark_dormant_accounts" in periodic_jobs()
    assert jobs.mark_dormant_accounts_job is periodic_jobs()["assets.mark_dormant_accounts"].task
