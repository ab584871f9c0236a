#!/usr/bin/env bash
# The main job: set up .venv with the local model and run the chat-model quickstart offline.
source "$(dirname "$0")/_venv.sh" local
exec chainkit quickstart "$@"
