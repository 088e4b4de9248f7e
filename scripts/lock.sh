#!/usr/bin/env bash
# Recompiles the lock files from pyproject.toml (pip-tools). Versions already in a lock are kept;
# pass --upgrade or --upgrade-package NAME to move them. Needs PyPI (or a mirror) to resolve.
#   requirements.lock      the runtime set: what `pip install huibao` needs
#   requirements-dev.lock  the runtime set plus the test and dev extras, pinned alike
set -euo pipefail
cd "$(dirname "$0")/.."
# (not PIP_*: pip reads every PIP_* variable as one of its own options)
LOCK_COMPILER=${LOCK_COMPILER:-.venv/bin/pip-compile}
# pip itself stays out of the locks: the venv keeps the pip it was created with (pinning it would
# make bootstrap upgrade pip in the middle of an install). setuptools is pinned: it builds huibao.
export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"
# opencv-python stays out too: rapidocr-onnxruntime asks for it, opencv-python-headless (pinned in
# pyproject.toml) provides the same cv2 without GUI libraries; the locks are installed --no-deps.
opts=(--quiet --strip-extras --unsafe-package pip --unsafe-package opencv-python --no-emit-index-url --no-emit-find-links --no-emit-trusted-host "$@")
"$LOCK_COMPILER" "${opts[@]}" --output-file requirements.lock pyproject.toml
"$LOCK_COMPILER" "${opts[@]}" --extra test --extra dev --constraint requirements.lock \
  --output-file requirements-dev.lock pyproject.toml
