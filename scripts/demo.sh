#!/usr/bin/env bash
# The demo: register handlers, enqueue tasks, drain them with a worker, print what happened.
source "$(dirname "$0")/_venv.sh"
python -m examples.demo "$@"
