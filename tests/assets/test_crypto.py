"""Secrets at rest: encrypted in the database, never in an API answer, a page or the audit log; keys rotate."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from dandelion.assets import crypto, services
from dandelion.assets.models import SocialAccount
from dandelion.core.models import AuditEvent
from tests.assets.conftest import PLAINTEXT
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

OLD_KEY = "6xX4Mx7P8PdUakoDqJdrhh0pe5ym4p4Wr2ZiwRgTf9E="  # the key tests/conftest.py configures


def raw_columns(pk):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials_encrypted, webhook_secret_encrypted FROM assets_socialaccount WHERE id = %s", [pk]
        )
        return cursor.fetchone()


def test_database_column_holds_no_plaintext(org):
    account = org.fr_account
    services.set_account_credentials(account, credentials={"token": PLAINTEXT}, expires_at=None,
                                     actor=org.users.fr_admin)
    secret = services.rotate_webhook_secret(account, actor=org.users.fr_admin)
    creds_blob, secret_blob = raw_columns(account.pk)
    assert PLAINTEXT not in creds_blob and secret not in secret_blob
    assert creds_blob and secret_blob
    fresh = SocialAccount.objects.get(pk=account.pk)
    assert fresh.credentials == {"token": PLAINTEXT} and fresh.webhook_secret == secret


def test_secrets_never_leave_through_api_detail_page_or_audit(org, api_for, client_for):
    account = org.fr_account
    services.set_account_credentials(account, credentials={"token": PLAINTEXT}, expires_at=None,
                                     actor=org.users.fr_admin)
    secret = services.rotate_webhook_secret(account, actor=org.users.fr_admin)
    blob = account.credentials_encrypted
    api = api_for(org.users.hub_admin)
    for url in (reverse("api:socialaccount-detail", args=[account.pk]), reverse("api:socialaccount-list")):
        body = api.get(url).content.decode()
        assert PLAINTEXT not in body and secret not in body and blob not in body
    detail = api.get(reverse("api:socialaccount-detail", args=[account.pk])).json()
    assert detail["has_credentials"] is True and detail["credentials_keys"] == ["token"]
    assert "credentials" not in detail and "webhook_secret" not in detail
    page = client_for(org.users.hub_admin).get(account.get_absolute_url()).content.decode()
    assert PLAINTEXT not in page and secret not in page and "token" in page
    export = b"".join(api.get(reverse("api:socialaccount-export")).streaming_content).decode()
    assert PLAINTEXT not in export and secret not in export
    for event in AuditEvent.objects.all():
        dumped = json.dumps(event.changes) + event.summary
        assert PLAINTEXT not in dumped and secret not in dumped and blob not in dumped
        assert "webhook_secret_encrypted" not in event.changes


def test_rotate_credentials_command_lets_the_old_key_go(org, settings, capsys):
    accounts = [org.fr_account, org.es_account]
    for n, account in enumerate(accounts):
        services.set_account_credentials(account, credentials={"token": f"{PLAINTEXT}-{n}"}, expires_at=None,
                                         actor=org.users.hub_admin)
    no_secrets = SocialAccountFactory(owner_unit=org.france)
    SocialAccount.objects.filter(pk=no_secrets.pk).update(webhook_secret_encrypted="")
    secrets = {a.pk: SocialAccount.objects.get(pk=a.pk).webhook_secret for a in accounts}

    new_key = Fernet.generate_key().decode()
    settings.DANDELION_ENCRYPTION_KEYS = [new_key, OLD_KEY]  # newest first
    call_command("rotate_credentials")
    out = capsys.readouterr().out
    assert "Re-encrypted 2 accounts: 2 credentials, 2 webhook secrets" in out

    settings.DANDELION_ENCRYPTION_KEYS = [new_key]  # the old key is dropped
    for n, account in enumerate(accounts):
        fresh = SocialAccount.objects.get(pk=account.pk)
        assert fresh.credentials == {"token": f"{PLAINTEXT}-{n}"}
        assert fresh.webhook_secret == secrets[account.pk]
    assert AuditEvent.objects.filter(action="assets.account.rotate_keys").count() == 1
    # running it again is harmless
    call_command("rotate_credentials")
    assert SocialAccount.objects.get(pk=accounts[0].pk).credentials == {"token": f"{PLAINTEXT}-0"}


def test_without_rotation_dropping_the_old_key_breaks_decryption(org, settings):
    services.set_account_credentials(org.fr_account, credentials={"token": PLAINTEXT}, expires_at=None,
                                     actor=org.users.hub_admin)
    settings.DANDELION_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.CredentialsError):
        _ = SocialAccount.objects.get(pk=org.fr_account.pk).credentials
    with pytest.raises(CommandError, match="no configured key can decrypt"):
        call_command("rotate_credentials")


def test_cli_name(org):
    from dandelion.cli import main

    main(["dandelion", "rotate-credentials"])  # dashes become underscores
