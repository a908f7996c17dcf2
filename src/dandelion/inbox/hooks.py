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

``/hooks/app/<app-id>/`` receives the webhooks of a whole network app (``connectors.base.AppWebhookConnector``): the
signature checked once with the app secret, each entry handed to the account it concerns and stored as on that
account's own URL, entries for unknown accounts logged and acknowledged (see ``docs/webhooks.md``).
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

    body, too_large = _read_body(request)
    if too_large is not None:
        return too_large
    try:
        connector = connect.connector_for(account)
    except UnknownConnector:
        return _error(404, "no_connector", "The account has no inbound connector.")
    if not connector.supports(Capability.INBOUND, account.connector_config or {}):
        return _error(404, "no_connector", "The account's connector does not receive webhooks.")
    failed, delivery, accepted = _ingest(account, connector, body, request.headers)
    if failed is not None:
        return failed
    return JsonResponse({"accepted": accepted, "delivery": delivery.pk}, status=202)


def _read_body(request):
    """``(body, None)``, or ``(b"", 413 response)`` when the body is over the limit (never read beyond it)."""
    limit = connect.max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return b"", _error(413, "too_large", f"The body is {declared} bytes; the limit is {limit}.")
    body = request.read(limit + 1)  # never read more than the limit, whatever Content-Length said
    if len(body) > limit:
        return b"", _error(413, "too_large", f"The body is larger than the limit of {limit} bytes.")
    return body, None


def _ingest(account, connector, body: bytes, headers):
    """Parse one account's delivery with its connector, validate and store it: ``(None, delivery, accepted)``, or
    ``(error response, None, 0)`` with nothing written."""
    from dandelion.inbox.services import store_delivery

    try:
        events = connector.parse_webhook(connect.account_ref(account), body, headers)
    except SignatureError as exc:
        return _error(exc.http_status, "missing_signature" if exc.missing else "bad_signature", exc.message), None, 0
    except PayloadError as exc:
        status = getattr(exc, "http_status", 400)
        response = _error(status, "too_large" if status == 413 else "malformed", str(exc))
        if status == 400:
            response = JsonResponse({"error": "malformed", "detail": str(exc), "field": exc.path}, status=400)
        return response, None, 0
    except ConnectorError as exc:
        return _error(400, "rejected", str(exc)), None, 0
    except (RecursionError, ValueError, TypeError, OverflowError):  # a connector that let bad input through
        logger.exception("webhook: the connector of account %s failed on a delivery", account.pk)
        return _error(400, "malformed", "The body could not be read."), None, 0
    try:  # the shared gate, whichever connector parsed the body (connectors/validation.py)
        events = validation.validate_events(events) if len(events) != 1 else [validation.validate_event(events[0])]
    except PayloadError as exc:
        return JsonResponse({"error": "malformed", "detail": str(exc), "field": exc.path}, status=400), None, 0

    try:  # store_delivery is its own transaction: committed when it returns (no savepoint inside another)
        delivery = store_delivery(account, events, body=body, source="webhook")
    except (DatabaseError, InterfaceError):  # a closed connection is InterfaceError, not a DatabaseError
        logger.exception("webhook: could not store a delivery for account %s", account.pk)
        return _error(503, "unavailable", "The delivery could not be stored; retry later."), None, 0
    # store_delivery's atomic block has exited: the delivery is committed (and its processing job enqueued).
    return None, delivery, len(events)


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


# --- one URL per network app ------------------------------------------------------------------------------------

#: Accounts of one app considered by the app router (a larger app is served by its accounts' own URLs).
MAX_APP_ACCOUNTS = 500


def _app_accounts(app_id: str) -> list:
    """The live accounts subscribed through ``app_id`` whose connector routes app webhooks, oldest first."""
    from dandelion.assets.models import SocialAccount
    from dandelion.connectors.base import AppWebhookConnector

    found = []
    for account in (SocialAccount.objects.filter(connector_config__app_id=app_id, archived_at__isnull=True)
                    .exclude(status=AccountStatus.ARCHIVED).order_by("pk")[:MAX_APP_ACCOUNTS]):
        try:
            if isinstance(connect.connector_for(account), AppWebhookConnector):
                found.append(account)
        except UnknownConnector:
            continue
    return found


@csrf_exempt
@require_http_methods(["GET", "POST"])
def receive_app_webhook(request, app_id: str):
    """``/hooks/app/<app id>/``: the webhooks of a whole network app (every Page and Instagram account subscribed
    through one Meta app). The signature is checked with the app secret; each entry is handed to the account it
    concerns (by its network id) and parsed and stored exactly as on that account's own URL; entries for accounts
    Dandelion does not know are logged and acknowledged (so the network does not retry them forever)."""
    try:
        accounts = _app_accounts(app_id)
    except (DatabaseError, InterfaceError):
        logger.exception("app webhook: database unavailable while looking up app %s", app_id)
        return _error(503, "unavailable", "The database is unavailable; retry later.")
    if not accounts:
        return _error(404, "unknown_app", f"No active account is subscribed through app {app_id}.")
    if request.method == "GET":  # the app's subscription verification: any of its accounts' verify tokens
        answer = None
        for account in accounts:
            answer = _answer_challenge(account, request)
            if answer.status_code == 200:
                return answer
        return answer
    body, too_large = _read_body(request)
    if too_large is not None:
        return too_large
    first = accounts[0]
    connector = connect.connector_for(first)
    try:
        targets = connector.app_webhook_targets(connect.account_ref(first), body, request.headers)
    except SignatureError as exc:
        return _error(exc.http_status, "missing_signature" if exc.missing else "bad_signature", exc.message)
    except PayloadError as exc:
        return JsonResponse({"error": "malformed", "detail": str(exc), "field": exc.path}, status=400)
    by_id = {}
    for account in accounts:
        by_id.setdefault(account.external_id, account)
    deliveries, unknown, accepted, failure = [], [], 0, None
    for target in targets:
        account = by_id.get(target)
        if account is None:
            unknown.append(target)
            continue
        failed, delivery, count = _ingest(account, connect.connector_for(account), body, request.headers)
        if failed is not None:
            failure = failure or failed
            continue
        deliveries.append(delivery.pk)
        accepted += count
    if unknown:
        logger.warning("app webhook %s: entries for unknown accounts %s acknowledged", app_id, unknown[:20])
    if failure is not None:  # the network retries; what was stored is deduplicated by external id
        return failure
    return JsonResponse({"accepted": accepted, "deliveries": deliveries, "unknown": unknown}, status=202)


app_name = "hooks"
urlpatterns = [
    path("<int:account_id>/", receive_webhook, name="receive"),
    path("app/<slug:app_id>/", receive_app_webhook, name="receive-app"),
]
