#!/usr/bin/env bash
# `make run`: starts Edgent Workbench from the build folder given as $1.
# The window is not built yet, so this runs the headless path: an evaluation of the
# shipped default model on the Fashion-MNIST test split.
set -euo pipefail
build="${1:-build}"
cd "$(dirname "$0")/.."
echo "edgent: the workbench window is not part of this build yet; running the headless path:" >&2
echo "edgent: edgent eval on the default model (datasets/default-model/fmnist-alexnet5.json)" >&2
exec "$build/app/edgent" eval
