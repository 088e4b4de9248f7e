#!/usr/bin/env bash
# Creates .venv and installs the pinned dependencies (both locks) and huibao itself, editable;
# a no-op when nothing that decides the installation has changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "创建虚拟环境 .venv …"
  "$PY" -m venv .venv
fi
# The stamp covers everything that decides what is installed: both locks and the project's build.
stamp=".venv/.installed-$(cat requirements.lock requirements-dev.lock pyproject.toml setup.py | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "安装固定版本的依赖（首次约需 2 分钟）…"
  # pip's own notes about unreachable local index mirrors are noise; real errors still show.
  quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
  # Runtime lock and dev lock (tests, ruff, mypy, build tools) together: pip refuses a pin that disagrees.
  # --no-deps: the locks pin the whole set (as pip-sync installs them); it also keeps out opencv-python,
  # which rapidocr-onnxruntime names but opencv-python-headless replaces (scripts/lock.sh).
  quiet .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -r requirements.lock -r requirements-dev.lock
  # Editable: prompts/, examples/ and knowledge/ are read from the checkout (assistant.core.resources).
  quiet .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi
