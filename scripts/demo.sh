#!/usr/bin/env bash
# The main job: set up, ingest the sample knowledge base, draft the sample report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/huibao ingest
.venv/bin/huibao demo "$@"
