#!/usr/bin/env bash
# Static checks, as CI runs them: ruff (lint), mypy (types: the packages listed in pyproject's [tool.mypy]) and,
# when it is configured, import-linter (the contracts between apps). Exits non-zero when any of them fails; each
# runs even if an earlier one failed, so one run reports everything.
#   scripts/lint.sh            all three
#   scripts/lint.sh typecheck  mypy only (make typecheck)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
status=0

run() {
  echo "== $*"
  "$@" || status=1
}

if [[ "${1:-}" != "typecheck" ]]; then
  run "$BIN/ruff" check src tests bench
fi
run "$BIN/mypy"
if [[ "${1:-}" != "typecheck" ]] && [[ -x "$BIN/lint-imports" ]] && \
    { [[ -f .importlinter ]] || grep -q '^\[tool.importlinter\]' pyproject.toml; }; then
  run "$BIN/lint-imports"
fi
exit $status
