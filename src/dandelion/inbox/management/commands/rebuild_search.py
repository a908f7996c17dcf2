"""``dandelion rebuild-search``: recompute conversations' search text from their stored messages.

The pipeline and the services keep each conversation's search text as they write (``inbox.search``) and migration
``inbox.0006`` fills it once; this command is the repair: after rows were changed outside Dandelion (a restore, a
manual SQL fix), or to apply a new folding rule. Idempotent, 500 conversations per statement, with progress; the
inbox stays usable while it runs (each chunk is its own short transaction)."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Recompute the search text of every conversation (or of --conversation ids) from its messages."

    def add_arguments(self, parser):
        parser.add_argument("--conversation", type=int, action="append", default=None,
                            help="Only this conversation id (repeatable).")
        parser.add_argument("--chunk", type=int, default=500, help="Conversations per statement (default 500).")

    def handle(self, *args, **o):
        from dandelion.inbox.models import Conversation
        from dandelion.inbox.search import rebuild

        total = len(o["conversation"]) if o["conversation"] else Conversation.objects.count()

        def progress(done):
            self.stdout.write(f"  {done:,}/{total:,} conversations")

        done = rebuild(o["conversation"], chunk=max(1, o["chunk"]), progress=progress if total > o["chunk"] else None)
        self.stdout.write(self.style.SUCCESS(f"Search text rebuilt for {done:,} conversations."))
