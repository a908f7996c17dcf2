"""Variants of the listening spike detector on CrisisLex T26: the labelled file and the held-out entire collections.

DANDELION_DATASETS=../shared/datasets PYTHONPATH=src .venv/bin/python bench/detector_variants.py \
    '[{}, {"P_OPEN": 0.003}, {"WINDOWS": [5, 10, 15, 30, 60]}]' [--density N]

Each variant patches ``dandelion.listening.detector``'s module constants in-process (restored afterwards) and runs
the same scoring as ``dandelion listening evaluate`` (labelled file, ``listening.evaluate.evaluate``) and as part 1
of ``bench/crisis_detect.py`` (held-out collections, no parameter tuned on them). One JSON line per variant and data
set: recall, median delay (minutes after the onset), false alerts a week. ``{}`` is the detector as it ships.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", help='a JSON list of {"CONSTANT": value} objects')
    parser.add_argument("--density", type=int, default=1, help="labelled file only: replay N times denser")
    parser.add_argument("--skip-held-out", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")
    import django

    django.setup()
    import crisis_detect

    from dandelion.listening import detector, evaluate

    labelled = evaluate.default_file(crisis_detect.DATASETS)
    held_out = None if args.skip_held_out else crisis_detect.streams()
    for variant in json.loads(args.variants):
        saved = {name: getattr(detector, name) for name in variant}
        for name, value in variant.items():
            setattr(detector, name, tuple(value) if isinstance(value, list) else value)
        try:
            started = time.perf_counter()
            result = evaluate.evaluate(labelled, density=args.density)
            print(json.dumps({"variant": variant, "data": f"labelled {args.density}x", "recall": result["recall"],
                              "median_delay_minutes": result["median_delay_minutes"],
                              "false_alerts_per_week": result["false_alerts_per_week"],
                              "seconds": round(time.perf_counter() - started, 1)}), flush=True)
            if held_out is not None:
                started = time.perf_counter()
                ours = crisis_detect.part_detection(held_out)["ours"]
                print(json.dumps({"variant": variant, "data": "held-out", **ours,
                                  "seconds": round(time.perf_counter() - started, 1)}), flush=True)
        finally:
            for name, value in saved.items():
                setattr(detector, name, value)


if __name__ == "__main__":
    main()
