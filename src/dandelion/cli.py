"""The ``dandelion`` console script: a thin wrapper over Django's management commands.

``dandelion serve``, ``dandelion worker``, ``dandelion seed-demo``, ``dandelion create-token USERNAME`` and every
other management command (``dandelion migrate``, ``dandelion replay ...``): dashes become underscores.
"""

from __future__ import annotations

import os
import sys

ALIASES = {"worker": "run_worker"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")
    from django.core.management import execute_from_command_line

    if len(argv) > 1 and not argv[1].startswith("-"):
        command = argv[1].replace("-", "_")
        argv[1] = ALIASES.get(command, command)
    argv[0] = "dandelion"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
