"""Webhook ingestion: ``POST /hooks/<account-id>/`` (mounted by config/urls.py at ``/hooks/``).

Cheapest checks first, and nothing is written unless every check passes:

=====  =========================================================================================
404    unknown or archived account
413    body over the connector's limit (from Content-Length, then from what was actually read)
401    no ``X-Dandelion-Signature`` header; 403 a signature that does not match the raw body
400    malformed payload: ``{"error": "malformed", "detail": "<path>: <why>", "field": "<path>"}``, the path naming
       the field (``events[2].author.id``); every limit is the shared validator's (``connectors/validation.py``)
503    the database is unavailable: the sender must retry (never a 202 for an unsaved event)
202    ``{"accepted": n, "delivery": id}``, answered only once the delivery is committed
=====  =========================================================================================

Processing happens later, in batches, in :func:`dandelion.inbox.jobs.process_pending_deliveries`.

``GET /hooks/<account-id>/`` is a network's webhook handshake (Meta's ``hub.challenge`` subscription verification,
X's ``crc_token`` check): answered by connectors implementing ``connectors.base.WebhookChallengeConnector`` (200 with
their answer, 401/403 when the verify token or challenge is wrong), 405 for the others. Nothing is written.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, InterfaceError
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from dandelion.assets.choices import AccountStatus
from dandelion.connectors import validation
from dandelion.connectors.base import Capability
from dandelion.connectors.errors import ConnectorError, PayloadError, SignatureError, UnknownConnector
from dandelion.inbox import connect

logger = logging.getLogger(__name__)


def _error(status: int, error: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": error, "detail": detail}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def receive_webhook(request, account_id: int):
    from dandelion.assets.models import SocialAccount
    from dandelion.inbox.services import store_delivery

    try:  # by primary key, no ordering to compile: at most one row
        account = (
            SocialAccount.objects.filter(pk=account_id, archived_at__isnull=True)
            .exclude(status=AccountStatus.ARCHIVED)
            .get()
        )
    except SocialAccount.DoesNotExist:
        return _error(404, "unknown_account", f"No active account with id {account_id}.")
    except (DatabaseError, InterfaceError):  # a closed connection is InterfaceError, not a DatabaseError
        logger.exception("webhook: database unavailable while looking up account %s", account_id)
        return _error(503, "unavailable", "The database is unavailable; retry later.")

    if request.method == "GET":  # a network's webhook handshake (subscription verification, CRC check)
        return _answer_challenge(account, request)

    limit = connect.max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _error(413, "too_large", f"The body is {declared} bytes; the limit is {limit}.")
    body = request.read(limit + 1)  # never read more than the limit, whatever Content-Length said
    if len(body) > limit:
        return _error(413, "too_large", f"The body is larger than the limit of {limit} bytes.")

    try:
        connector = connect.connector_for(account)
    except UnknownConnector:
        return _error(404, "no_connector", "The account has no inbound connector.")
    if not connector.supports(Capability.INBOUND, account.connector_config or {}):
        return _error(404, "no_connector", "The account's connector does not receive webhooks.")
    try:
        events = connector.parse_webhook(connect.account_ref(account), body, request.headers)
    except SignatureError as exc:
        return _error(exc.http_status, "missing_signature" if exc.missing else "bad_signature", exc.message)
    except PayloadError as exc:
        status = getattr(exc, "http_status", 400)
        response = _error(status, "too_large" if status == 413 else "malformed", str(exc))
        if status == 400:
            response = JsonResponse({"error": "malformed", "detail": str(exc), "field": exc.path}, status=400)
        return response
    except ConnectorError as exc:
        return _error(400, "rejected", str(exc))
    except (RecursionError, ValueError, TypeError, OverflowError):  # a connector that let bad input through
        logger.exception("webhook: the connector of account %s failed on a delivery", account_id)
        return _error(400, "malformed", "The body could not be read.")
    try:  # the shared gate, whichever connector parsed the body (connectors/validation.py)
        events = validation.validate_events(events) if len(events) != 1 else [validation.validate_event(events[0])]
    except PayloadError as exc:
        return JsonResponse({"error": "malformed", "detail": str(exc), "field": exc.path}, status=400)

    try:  # store_delivery is its own transaction: committed when it returns (no savepoint inside another)
        delivery = store_delivery(account, events, body=body, source="webhook")
    except (DatabaseError, InterfaceError):  # a closed connection is InterfaceError, not a DatabaseError
        logger.exception("webhook: could not store a delivery for account %s", account_id)
        return _error(503, "unavailable", "The delivery could not be stored; retry later.")
    # store_delivery's atomic block has exited: the delivery is committed (and its processing job enqueued).
    return JsonResponse({"accepted": len(events), "delivery": delivery.pk}, status=202)


def _answer_challenge(account, request):
    from django.http import HttpResponse

    from dandelion.connectors.base import WebhookChallengeConnector

    try:
        connector = connect.connector_for(account)
    except UnknownConnector:
        return _error(404, "no_connector", "The account has no inbound connector.")
    if not isinstance(connector, WebhookChallengeConnector):
        return _error(405, "method_not_allowed", "This account's webhooks are delivered by POST only.")
    params = {key: request.GET.get(key, "")[:1000] for key in list(request.GET)[:20]}
    try:
        content_type, body = connector.answer_challenge(connect.account_ref(account), params)
    except SignatureError as exc:
        return _error(exc.http_status, "missing_signature" if exc.missing else "bad_signature", exc.message)
    except ConnectorError as exc:
        return _error(400, "rejected", str(exc))
    return HttpResponse(body, content_type=content_type, status=200)


app_name = "hooks"
urlpatterns = [
    path("<int:account_id>/", receive_webhook, name="receive"),
]
