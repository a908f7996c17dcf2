"""The import contracts of pyproject.toml ([tool.importlinter]) hold: apps are layered, core at the bottom."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(
        [sys.executable, "-c", ("import sys; from importlinter.cli import lint_imports_command; "
                               "sys.exit(lint_imports_command(['--no-cache']))")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_core_imports_no_app():
    """Not even lazily inside a function: what core needs of the apps comes through their AppConfigs."""
    apps = {"orgs", "assets", "inbox", "routing", "connectors", "understanding", "config"}
    offenders = []
    for path in (ROOT / "src" / "dandelion" / "core").rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            words = line.strip().split()
            if len(words) >= 2 and words[0] in ("from", "import") and \
                    any(words[1] == f"dandelion.{a}" or words[1].startswith(f"dandelion.{a}.") for a in apps):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
