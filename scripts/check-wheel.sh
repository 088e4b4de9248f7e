#!/usr/bin/env bash
# Packaging check: build the sdist and the wheel from it, install the wheel into a fresh venv
# with the locked runtime dependencies, then, from an empty folder outside the project, draft the
# sample report offline and with a model (the installed fake OpenAI server, so the shipped prompts
# are rendered). Catches files left out of the wheel and paths into the source tree.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python  # the dev venv: it has the build backend and `build`
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

echo "== 构建 sdist 和 wheel（${SECONDS}s）"
# --no-isolation: the build backend (setuptools) comes from the dev lock, so no download.
"$PY" -m build --no-isolation --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/*.whl)
echo "$(basename "$wheel")"

echo "== 在新的虚拟环境中安装（requirements.lock + wheel）（${SECONDS}s）"
# A venv made from .venv's python is based on the same interpreter, not on .venv itself.
"$PY" -m venv "$work/venv"
quiet "$work/venv/bin/python" -m pip install -q --disable-pip-version-check --no-compile --no-deps -r requirements.lock
# OCR works offline from a fresh install: cv2 from opencv-python-headless, models from the wheel
"$work/venv/bin/python" -c "import cv2, rapidocr_onnxruntime; rapidocr_onnxruntime.RapidOCR()" >/dev/null
quiet "$work/venv/bin/python" -m pip install -q --disable-pip-version-check --no-compile --no-deps "$wheel"

echo "== 在空目录中运行 huibao demo --offline、huibao ingest、huibao demo（接模型）（${SECONDS}s）"
mkdir "$work/empty"
cd "$work/empty"
# Nothing may lead back to the checkout or the caller's settings: a bare environment.
# (An array, not a function: `env` execs the command, so the server's $! is the server itself.)
run=(env -i HOME="$HOME" PATH=/usr/bin:/bin LANG=C.UTF-8 ANONYMIZED_TELEMETRY=False)
location=$("${run[@]}" "$work/venv/bin/python" -c "import assistant; print(assistant.__file__)")
case "$location" in
  "$work/venv/"*) ;;
  *) echo "导入的不是安装的包：$location" >&2; exit 1 ;;
esac
"${run[@]}" "$work/venv/bin/huibao" demo --offline
"${run[@]}" "$work/venv/bin/huibao" ingest
"${run[@]}" "$work/venv/bin/python" -u -m assistant.testing.openai_server --port 0 --responder clean >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/server.log" && break; sleep 0.2; done
url=$(grep -o "http://[^ ]*" "$work/server.log") || { cat "$work/server.log"; exit 1; }
"${run[@]}" OPENAI_BASE_URL="$url" OPENAI_API_KEY=test-key HUIBAO_MODEL=fake-model \
  "$work/venv/bin/huibao" demo --out out-model >"$work/demo-model.log" 2>&1 || { cat "$work/demo-model.log"; exit 1; }

fail=0
[ -f data/workspace.sqlite3 ] || { echo "缺少 ./data/workspace.sqlite3" >&2; fail=1; }
[ -d data/chroma ] || { echo "缺少 ./data/chroma" >&2; fail=1; }
[ -f out/report.json ] || { echo "缺少 out/report.json" >&2; fail=1; }
ls out/*.md >/dev/null 2>&1 || { echo "缺少 out/*.md" >&2; fail=1; }
grep -q '"fake-model"' out-model/report.json 2>/dev/null || { echo "接模型起草没有写出 out-model/report.json" >&2; fail=1; }
if [ "$fail" != 0 ]; then
  echo "wheel 检查失败" >&2
  exit 1
fi
echo "wheel 检查通过（${SECONDS}s）：$(ls out out-model data | tr '\n' ' ')"
