#!/usr/bin/env bash
# The whole test suite, set-up included: lint, format and type checks, the eval gate (offline
# engine), the recorded model answers replayed through the real SDK path, the built wheel drafting
# from an empty folder, then pytest (browser test included). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/system-deps.sh
echo "== 代码检查（ruff check、ruff format --check、mypy）"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
mkdir -p test-artifacts
eval_data=$(mktemp -d)
trap 'rm -rf "$eval_data"' EXIT
echo "== 评测（离线引擎）"
HUIBAO_DATA_DIR="$eval_data" .venv/bin/huibao eval --offline \
  --report test-artifacts/eval-offline.md --json test-artifacts/eval-offline.json
echo "== 评测（回放录制的模型回答：植入的错误必须全部被发现）"
HUIBAO_DATA_DIR="$eval_data" .venv/bin/python -m evals.replay --expect-fail --judge \
  --data-dir "$eval_data" --report test-artifacts/eval-recorded.md --json test-artifacts/eval-recorded.json
echo "== 安装包检查（wheel 装进新环境，在空目录中起草示例汇报）"
bash scripts/check-wheel.sh
echo "== pytest"
.venv/bin/python -m pytest "$@"
