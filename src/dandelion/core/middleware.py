"""Request context for the audit log (request id, client address)."""

from __future__ import annotations

import uuid

from dandelion.core.audit import reset_request_context, set_request_context


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        token = set_request_context(request_id=request_id[:64], ip=request.META.get("REMOTE_ADDR"))
        try:
            response = self.get_response(request)
        finally:
            reset_request_context(token)
        response["X-Request-ID"] = request_id[:64]
        return response
