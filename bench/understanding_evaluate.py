"""Full understanding evaluation without Django (same as ``dandelion evaluate``).

``python bench/understanding_evaluate.py [DATASETS_DIR] [--json FILE]``
"""

import json
import sys
import warnings

warnings.filterwarnings("ignore")

from dandelion.understanding.evaluation import format_table, run_all

if __name__ == "__main__":
    args = sys.argv[1:]
    out = None
    if "--json" in args:
        i = args.index("--json")
        out = args[i + 1]
        del args[i : i + 2]
    result = run_all(args[0] if args else None, log=lambda m: print(m, file=sys.stderr))
    print(format_table(result))
    if out:
        with open(out, "w") as fh:
            json.dump(result, fh, indent=1)
