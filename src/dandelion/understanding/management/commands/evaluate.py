"""``dandelion evaluate [--datasets DIR] [--json FILE]``: the understanding results table, baselines beside."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Evaluate the shipped understanding models on ../shared/datasets, baselines scored in the same run."

    def add_arguments(self, parser):
        parser.add_argument("datasets", nargs="?", default=None, help="datasets folder (default ../shared/datasets)")
        parser.add_argument("--datasets", dest="datasets_opt", default=None)
        parser.add_argument("--json", dest="json_out", default=None, help="also write the results as JSON")
        parser.add_argument("--no-speed", action="store_true", help="skip the speed/memory measurement")
        parser.add_argument("--no-lingua-baseline", action="store_true", help="skip lingua high-accuracy")
        parser.add_argument("--no-abuse-models", action="store_true",
                            help="skip the per-language and leave-one-language-out abuse models (minutes)")

    def handle(self, *args, datasets=None, datasets_opt=None, json_out=None, no_speed=False,
               no_lingua_baseline=False, no_abuse_models=False, **opts):
        from dandelion.understanding.evaluation import format_table, run_all

        try:
            result = run_all(datasets_opt or datasets, log=lambda m: self.stderr.write(m),
                             with_speed=not no_speed, with_lingua=not no_lingua_baseline,
                             with_abuse_models=not no_abuse_models)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(format_table(result))
        if json_out:
            with open(json_out, "w", encoding="utf-8") as f:
                json.dump(result, f, indent=1)
