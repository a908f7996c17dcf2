"""``dandelion train [--datasets DIR] [--out DIR]``: retrain the shipped understanding heads reproducibly."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Train the understanding heads from the redistributable datasets (train/val splits only)."

    def add_arguments(self, parser):
        parser.add_argument("--datasets", default=None, help="datasets folder (default ../shared/datasets)")
        parser.add_argument("--out", default=None, help="output folder (default: the package's models/)")
        parser.add_argument("--only", default=None,
                            help="retrain only these small models, comma-separated: nordic, afrisenti")

    def handle(self, *args, datasets=None, out=None, only=None, **opts):
        from django.core.management.base import CommandError

        from dandelion.understanding.model import MODELS_DIR
        from dandelion.understanding.training import SMALL_MODELS, train_all, train_small

        log = lambda m: self.stderr.write(m)
        out_dir = Path(out) if out else MODELS_DIR
        if only:
            names = tuple(n.strip() for n in only.split(",") if n.strip())
            unknown = [n for n in names if n not in SMALL_MODELS]
            if unknown:
                raise CommandError(f"--only: unknown model(s) {', '.join(unknown)}; choose from {', '.join(SMALL_MODELS)}")
            train_small(datasets, out_dir, log, only=names)
            return
        train_all(datasets, out_dir, log=log)
