"""``dandelion listening evaluate [DATASETS] [--json FILE] [--density N]``: score the spike detector on CrisisLex.

``dandelion listening stream [--seconds N]``: follow the network-search queries live where a connector streams a
search (``dandelion.listening.streaming``), one thread per query and account, until interrupted.

DATASETS is the datasets folder (default ``../shared/datasets``, or ``DANDELION_DATASETS``) or any CSV with the
same columns (``event``, ``created_at_utc_from_snowflake``, ``informativeness``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dandelion.listening.evaluate import EvaluationError, default_file, evaluate, format_report


class Command(BaseCommand):
    help = "Listening tools. evaluate: replay CrisisLex T26 through the spike detector and two baselines."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ev = sub.add_parser("evaluate", help="replay CrisisLex-shaped events through the real detector")
        ev.add_argument("datasets", nargs="?", default=os.environ.get("DANDELION_DATASETS", "../shared/datasets"))
        ev.add_argument("--json", dest="json_file", help="write the figures as JSON to this file ('-': stdout)")
        ev.add_argument("--density", type=int, default=1,
                        help="resample every event at N times its density (10, 100: a busier stream)")
        ev.add_argument("--seed", type=int, default=0)
        st = sub.add_parser("stream", help="follow the network-search queries live where a network streams them")
        st.add_argument("--seconds", type=float, default=None, help="stop after N seconds (default: when interrupted)")

    def handle(self, *args, **options):
        if options["action"] == "stream":
            return self.stream(options["seconds"])
        if options["action"] != "evaluate":  # pragma: no cover - argparse refuses others
            raise CommandError("unknown action")
        density = options["density"]
        if not 1 <= density <= 1000:
            raise CommandError("--density is between 1 and 1000")
        try:
            path = default_file(options["datasets"])
            result = evaluate(path, density=density, seed=options["seed"])
        except (EvaluationError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        if options["json_file"] == "-":
            self.stdout.write(json.dumps(result, indent=2))
            return
        self.stdout.write(format_report(result))
        if options["json_file"]:
            Path(options["json_file"]).write_text(json.dumps(result, indent=2), encoding="utf-8")
            self.stdout.write(f"\nJSON written to {options['json_file']}")

    def stream(self, seconds: float | None) -> None:
        import threading
        from functools import partial

        from django.db import connections

        from dandelion.connectors.streams import run_listeners, summary
        from dandelion.listening.streaming import listen_query, streamable_pairs

        def listener(query_pk: int, account_pk: int, stop: threading.Event):
            try:
                return listen_query(query_pk, account_pk, stop=stop)
            finally:
                connections.close_all()

        pairs = streamable_pairs()
        if not pairs:
            self.stdout.write("No network-search query can be followed live: nothing to do.")
            return
        for stats in run_listeners([(f"{q}-{a}", partial(listener, q, a)) for q, a in pairs], seconds=seconds):
            self.stdout.write(summary(stats))
