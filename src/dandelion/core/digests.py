"""Periodic digest e-mails (the community's weekly digest, the daily digest of what waits on a person): one person's
digest claimed and sent in one transaction, in their language and time zone.

The caller's claim row is unique per person and period and inserted in the transaction that sends: a second run or a
second worker hits the unique constraint and sends nothing; a failed send rolls the claim back (logged) and the next
run retries; a period with nothing to tell is claimed without an e-mail."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sized
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

logger = logging.getLogger(__name__)


def send_claimed(user, *, language: str, zone: dt.tzinfo, build: Callable[[], Any], claim: Callable[..., object],
                 render: Callable[[Any], tuple[str, str]], label: str) -> bool:
    """``build()`` the digest (a ``Sized``: how many items), ``claim(items=n)`` (inserts the claim row), and when it
    holds something, e-mail ``render(digest)`` (subject, plain-text body) to ``user.email``. True when it left."""
    try:
        with transaction.atomic(), translation.override(language), timezone.override(zone):
            digest: Sized = build()
            claim(items=len(digest))
            if not len(digest):
                return False
            subject, body = render(digest)
            send_mail(subject=subject, message=body, from_email=None, recipient_list=[user.email],
                      fail_silently=False)
            return True
    except IntegrityError:
        return False  # another run claimed it
    except Exception:  # a failed send rolls its claim back: retried by the next run
        logger.exception("%s for user %s failed", label, user.pk)
        return False
