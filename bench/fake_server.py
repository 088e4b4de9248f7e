"""Standalone fake OpenAI-compatible server for benchmarks and the browser e2e.

    .venv/bin/python bench/fake_server.py --port 8765 --delay 0.5

Same options as `python -m tests.fake_openai` (see tests/fake_openai.py); this file only
makes the repository root importable when run by path.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_openai import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
