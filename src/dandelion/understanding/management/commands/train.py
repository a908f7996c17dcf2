"""``dandelion train [--datasets DIR] [--out DIR]``: retrain the shipped understanding heads reproducibly."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Train the understanding heads from the redistributable datasets (train/val splits only)."

    def add_arguments(self, parser):
        parser.add_argument("--datasets", default=None, help="datasets folder (default ../shared/datasets)")
        parser.add_argument("--out", default=None, help="output folder (default: the package's models/)")

    def handle(self, *args, datasets=None, out=None, **opts):
        from dandelion.understanding.model import MODELS_DIR
        from dandelion.understanding.training import train_all

        train_all(datasets, Path(out) if out else MODELS_DIR, log=lambda m: self.stderr.write(m))
