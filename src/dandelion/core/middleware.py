"""Request context for the audit log (request id, client address); the statement timeout of web requests; the
signed-in person's language and time zone."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import DatabaseError, connection
from django.shortcuts import render
from django.utils import timezone, translation

from dandelion.core.audit import reset_request_context, set_request_context
from dandelion.core.htmx import wants_partial


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


class UserPreferencesMiddleware:
    """Activates the signed-in person's language (over the browser's, which ``LocaleMiddleware`` activated) and time
    zone (else ``TIME_ZONE``) for the request. Both are read from the session, where sign-in and the profile page put
    them (:mod:`dandelion.core.i18n`): no query per request. A session from before they were kept there is filled
    once from the profile."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from dandelion.core import i18n

        session = getattr(request, "session", None)
        if session is not None and i18n.SESSION_LANGUAGE not in session and request.user.is_authenticated:
            from dandelion.core.models import UserProfile

            profile = UserProfile.objects.filter(user=request.user).first()
            i18n.remember_preferences(session, language=profile.language if profile else "",
                                      time_zone=profile.time_zone if profile else "")
        language = session.get(i18n.SESSION_LANGUAGE, "") if session is not None else ""
        zone = session.get(i18n.SESSION_TIME_ZONE, "") if session is not None else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        if zone:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            if zone:
                timezone.deactivate()


logger = logging.getLogger(__name__)

QUERY_CANCELED = "57014"  # PostgreSQL: canceling statement due to statement timeout
TIMEOUT_MESSAGE = ("This request took longer than {seconds:g} s and was stopped. Narrow the search or the filters "
                   "(a longer word, a team, a status) and try again.")


def is_statement_timeout(exc: BaseException) -> bool:
    """``exc`` (a Django database error) is PostgreSQL cancelling a statement that ran past the timeout."""
    cause = getattr(exc, "__cause__", None)
    return isinstance(exc, DatabaseError) and (
        getattr(cause, "sqlstate", None) == QUERY_CANCELED or getattr(cause, "pgcode", None) == QUERY_CANCELED)


def timeout_message() -> str:
    return TIMEOUT_MESSAGE.format(seconds=settings.DANDELION_REQUEST_STATEMENT_TIMEOUT)


def _timeout_ms() -> int:
    return int(settings.DANDELION_REQUEST_STATEMENT_TIMEOUT * 1000)


def _set_timeout(cursor, ms: int | None) -> None:
    """On a driver cursor: the session's statement timeout to ``ms``, or back to the server's default (None)."""
    cursor.execute(f"SET statement_timeout = '{int(ms)}ms'" if ms else "RESET statement_timeout")


def bind_web_connections() -> None:
    """For a process that serves web requests only (``config/wsgi.py``: ``dandelion serve`` or any WSGI server):
    each database connection gets the requests' statement timeout once, when it opens, instead of a ``SET`` before
    and a ``RESET`` after every request (two of a webhook's seven round trips). Other processes (workers, commands,
    tests) keep the per-request bound of :class:`StatementTimeoutMiddleware`."""
    global _BIND_ON_CONNECT
    from django.db.backends.signals import connection_created

    connection_created.connect(_bind_on_connect, dispatch_uid="dandelion.bind_web_connections")
    _BIND_ON_CONNECT = True


_BIND_ON_CONNECT = False  # this process binds its connections when they open (bind_web_connections)


def _bind_on_connect(sender, connection, **kwargs) -> None:
    ms = _timeout_ms()
    if ms > 0 and connection.vendor == "postgresql":
        with connection.connection.cursor() as cursor:  # autocommit at connect: no transaction can undo it
            _set_timeout(cursor, ms)
        connection.dandelion_bound_ms = ms


class StatementTimeoutMiddleware:
    """On PostgreSQL, bounds every statement of a web request by ``DANDELION_REQUEST_STATEMENT_TIMEOUT``: set on the
    connection before the request's first statement (a request that reads nothing opens no connection for it) and
    reset after the request, so a worker or a command sharing the process is not bound; in a web process the
    connection carries it from its opening instead (:func:`bind_web_connections`). A statement stopped by it is
    answered with a 503 and what to do, instead of a server error; the API's exception handler answers the same in
    JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ms = _timeout_ms()
        if ms <= 0 or connection.vendor != "postgresql":
            return self.get_response(request)
        if _BIND_ON_CONNECT and getattr(connection, "dandelion_bound_ms", ms) == ms:
            return self.get_response(request)  # bound when it opened, or will be when it opens (a web process)
        bound = _BoundFirstStatement(ms)
        try:
            with connection.execute_wrapper(bound):
                return self.get_response(request)
        finally:
            if bound.applied:
                _reset_timeout()

    def process_exception(self, request, exception):
        if not is_statement_timeout(exception):
            return None
        logger.warning("statement timeout on %s %s", request.method, request.get_full_path()[:500])
        return render(request, "core/partials/_timeout.html" if wants_partial(request) else "core/timeout.html",
                      {"message": timeout_message()}, status=503)


class _BoundFirstStatement:
    """An execute wrapper that sets the statement timeout on the request's connection before its first statement."""

    def __init__(self, ms: int):
        self.ms = ms
        self.applied = False

    def __call__(self, execute, sql, params, many, context):
        if not self.applied:
            # on the driver's cursor: session set-up, like Django's own time zone SET, not one of the request's
            # queries (query logs and query-count tests see only those)
            _set_timeout(context["cursor"].cursor, self.ms)
            self.applied = True
        return execute(sql, params, many, context)


def _reset_timeout() -> None:
    raw = connection.connection  # the driver's connection (None when Django closed it meanwhile)
    if raw is None or connection.needs_rollback:
        return  # a closed connection is replaced on next use; an aborted transaction's SET is rolled back with it
    bound = getattr(connection, "dandelion_bound_ms", None)  # a web process's connection keeps its own bound
    try:
        with raw.cursor() as cursor:
            _set_timeout(cursor, bound)
    except Exception:
        logger.debug("could not reset the statement timeout", exc_info=True)
