"""The assets services other apps call instead of writing accounts themselves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dandelion.assets.models import SocialAccount
from dandelion.assets.services import note_account_activity, record_account_error
from dandelion.core.actors import SYSTEM

pytestmark = pytest.mark.django_db


def test_activity_moves_forward_never_back(org):
    now = timezone.now()
    fr, es = org.fr_account, org.es_account
    SocialAccount.objects.filter(pk=fr.pk).update(last_activity_at=now)
    SocialAccount.objects.filter(pk=es.pk).update(last_activity_at=None)
    moved = note_account_activity({fr.pk: now - dt.timedelta(hours=1), es.pk: now}, actor=SYSTEM)
    assert moved == 1
    fr.refresh_from_db()
    es.refresh_from_db()
    assert fr.last_activity_at == now and es.last_activity_at == now
    assert note_account_activity({}) == 0


def test_a_permanent_connector_error_is_kept_on_the_account(org):
    record_account_error(org.fr_account, error="token revoked " + "x" * 600, actor=SYSTEM)
    account = SocialAccount.objects.get(pk=org.fr_account.pk)
    assert account.last_error.startswith("token revoked") and len(account.last_error) == 500
    assert account.last_error_at is not None
