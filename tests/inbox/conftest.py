"""Inbox fixtures: the shared ``org`` with accounts on the fake connector, SLA policies, helpers to post
signed webhooks and to feed events through the real pipeline."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re

import pytest
from django.utils import timezone

from dandelion.connectors import fake
from dandelion.connectors.generic import webhook
from dandelion.inbox.models import InboundDelivery

SECRET = "test-webhook-secret"


@pytest.fixture(autouse=True)
def _fake_store():
    fake.reset()
    yield
    fake.reset()


_REAL_ANALYZER: list[bool] = []


def _analyzer_available() -> bool:
    """The real analyzer is used whenever it is installed and loads (its trained heads are present)."""
    if not _REAL_ANALYZER:
        ok = importlib.util.find_spec("dandelion.understanding.analyzer") is not None
        if ok:
            try:
                from dandelion.understanding.analyzer import get_analyzer

                get_analyzer().analyze(["Bonjour, ma commande n'est pas arrivée"])
            except Exception:  # noqa: BLE001 - not trained yet
                ok = False
        _REAL_ANALYZER.append(ok)
    return _REAL_ANALYZER[0]


@pytest.fixture(autouse=True)
def _analyzer(monkeypatch):
    """The real analyzer when it is there; until the understanding app ships it, a keyword stand-in."""
    if _analyzer_available():
        yield
        return
    from dandelion.understanding.base import Understanding

    class Stub:
        def analyze(self, texts, language_hints=None):
            out = []
            for i, text in enumerate(texts):
                hint = language_hints[i] if language_hints else None
                low = text.lower()
                lang = hint or ("fr" if re.search(r"\b(je|le|la|mon|est|pas|bonjour)\b", low) else
                                "am" if re.search(r"[\u1200-\u137f]", text) else "es" if " el " in f" {low} " else "en")
                spam = 0.95 if ("free followers" in low or "http" in low) else 0.02
                complaint = any(w in low for w in ("remboursement", "inacceptable", "broken", "never", "toujours pas"))
                out.append(Understanding(lang, 0.9, "negative" if complaint else "neutral", 0.8,
                                         "complaint" if complaint else ("question" if "?" in text else "other"),
                                         spam, 0.01, spam < 0.5))
            return out

    try:
        from dandelion.understanding import analyzer as real

        monkeypatch.setattr(real, "get_analyzer", lambda: Stub())
    except ImportError:
        import sys
        import types

        module = types.ModuleType("dandelion.understanding.analyzer")
        module.get_analyzer = lambda: Stub()
        monkeypatch.setitem(sys.modules, "dandelion.understanding.analyzer", module)
    yield


@pytest.fixture
def inbox(org):
    """``org`` with its accounts on the fake connector and a one-hour first-response SLA for every team."""
    from dandelion.routing.models import SlaPolicy

    for account in (org.fr_account, org.es_account):
        account.connector = "fake"
        account.save(update_fields=["connector"])
    for team in (org.fr_team, org.es_team, org.vendor_team):
        SlaPolicy.objects.create(team=team, first_response_seconds=3600, next_response_seconds=7200,
                                 resolution_seconds=86400)
    return org


def event(text, *, id, author="cust-1", name="Camille Client", kind="comment", in_reply_to=None,
          from_account=False, at=None, language=None, country=None, followers=None):
    """A generic-webhook event object."""
    data = {"id": id, "kind": kind, "text": text,
            "created_at": (at or timezone.now()).isoformat(),
            "author": {"id": author, "name": name, "handle": f"@{author}"}}
    if in_reply_to:
        data["in_reply_to"] = in_reply_to
    if from_account:
        data["from_account"] = True
    if language:
        data["author"]["language"] = language
    if country:
        data["author"]["country"] = country
    if followers is not None:
        data["author"]["followers"] = followers
    return data


@pytest.fixture
def post_hook(client):
    """``post_hook(account, payload, secret=..., signature=...)``: POST a signed delivery to /hooks/<id>/."""

    def post(account, payload, *, secret=SECRET, signature=None, raw: bytes | None = None, **extra):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {}
        if signature is not False:
            headers["HTTP_X_DANDELION_SIGNATURE"] = signature or webhook.sign(body, secret)
        return client.post(f"/hooks/{account.pk}/", data=body, content_type="application/json", **headers, **extra)

    return post


@pytest.fixture
def deliver(post_hook):
    """Post events through the webhook and run the processing job: the whole inbound path."""
    from dandelion.inbox.jobs import process_pending_deliveries

    def run(account, *events):
        response = post_hook(account, {"events": list(events)})
        assert response.status_code == 202, response.content
        process_pending_deliveries.call()
        delivery = InboundDelivery.objects.get(pk=response.json()["delivery"])
        assert delivery.state == "done", delivery.error
        return delivery

    return run


def ago(**kwargs) -> dt.datetime:
    return timezone.now() - dt.timedelta(**kwargs)


@pytest.fixture
def two_queues(inbox, deliver):
    """One French conversation (FR helpers) and one Amharic one (ModCo moderation)."""
    from dandelion.inbox.models import Conversation

    deliver(inbox.fr_account, event("Bonjour, mon colis est perdu, je veux un remboursement !", id="fr1",
                                    author="u-fr", name="Camille Martin", language="fr"))
    deliver(inbox.fr_account, event("ሰላም ትዕዛዜ የት ነው?", id="am1", author="u-am", name="Abebe Kebede",
                                    language="am"))
    fr = Conversation.objects.get(messages__external_id="fr1")
    am = Conversation.objects.get(messages__external_id="am1")
    assert fr.team == inbox.fr_team and am.team == inbox.vendor_team
    return fr, am
