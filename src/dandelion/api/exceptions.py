"""Service errors become clean JSON 4xx answers, the same for every viewset (``dandelion.api.viewsets``):
``DandelionError`` 400, ``PermissionDeniedError`` 403, ``NotFoundError`` 404, ``ConflictError`` 409; a row that
vanished under a service (``ObjectDoesNotExist``) is a 404 and a lost unique race (``IntegrityError``) a 409.
Everything else is DRF's default handling."""

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.db import DataError, IntegrityError
from django.http import JsonResponse
from django.views import defaults
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from dandelion.core.exceptions import DandelionError
from dandelion.core.middleware import is_statement_timeout, timeout_message

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, DandelionError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    if is_statement_timeout(exc):
        return Response({"detail": timeout_message(), "code": "statement_timeout"}, status=503)
    if isinstance(exc, ObjectDoesNotExist):
        return Response({"detail": "Not found.", "code": "not_found"}, status=404)
    if isinstance(exc, IntegrityError):
        logger.warning("API write lost a race on a constraint: %s", exc)
        return Response({"detail": "This conflicts with the current data (it changed meanwhile); reload and try "
                                   "again.", "code": "conflict"}, status=409)
    if isinstance(exc, (OverflowError, DataError)):
        # A filter or path value the database cannot represent (e.g. an id past 2**63): bad input, not a crash.
        return Response({"detail": "A value in the request is out of range.", "code": "out_of_range"}, status=400)
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    """``handler404``: under ``/api/`` a path no route matches (``/api/v1/accounts/abc/``) answers JSON, as the
    API's own 404s do; elsewhere Django's HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)
