#!/usr/bin/env bash
# The whole test suite: generated code up to date, lint, types, then pytest.
source "$(dirname "$0")/_venv.sh"
set -x
simple-worker-gen contracts/tasks.toml --check
ruff check simple_worker generated tests examples
mypy --strict simple_worker generated examples
pytest "$@"
