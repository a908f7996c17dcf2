"""``dandelion stream [--account ID ...] [--seconds N]``: keep a live connection open for every account whose connector
can push (IMAP IDLE, streaming APIs), one thread each, until interrupted (Ctrl-C, SIGTERM) or for ``N`` seconds.
What they push is stored and polled through ``dandelion.inbox.streaming`` (reconnecting with backoff); run it beside
``dandelion worker``, which processes what it stores and keeps polling every account as a safety net. Listening's
live searches run with ``dandelion listening stream``."""

from __future__ import annotations

import threading
from functools import partial

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from dandelion.connectors.streams import run_listeners, summary
from dandelion.inbox.streaming import listen, streamable_accounts


def _listener(pk: int, stop: threading.Event):
    try:
        return listen(pk, stop=stop)
    finally:
        connections.close_all()


class Command(BaseCommand):
    help = "Keep live connections (IMAP IDLE, streaming APIs) open for the accounts that offer them."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, action="append", default=[], metavar="ID",
                            help="Stream this account only (repeatable); default: every account that can stream.")
        parser.add_argument("--seconds", type=float, default=None, metavar="N",
                            help="Stop after N seconds (default: run until interrupted).")

    def handle(self, *args, account: list[int], seconds: float | None, **options):
        accounts = streamable_accounts(account or None)
        if account and len(accounts) != len(set(account)):
            missing = sorted(set(account) - {a.pk for a in accounts})
            raise CommandError(f"These accounts cannot stream (unknown, archived, or their connector cannot push): "
                               f"{', '.join(map(str, missing))}")
        if not accounts:
            self.stdout.write("No account can stream: nothing to do.")
            return
        for a in accounts:
            self.stdout.write(f"streaming {a} ({a.connector})")
        for stats in run_listeners([(str(a.pk), partial(_listener, a.pk)) for a in accounts], seconds=seconds):
            self.stdout.write(summary(stats))
