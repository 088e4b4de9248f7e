"""Standalone fake OpenAI-compatible server for benchmarks and the browser e2e.

    .venv/bin/python bench/fake_server.py --port 8765 --delay 0.5

Same options as `python -m assistant.testing.openai_server` (see assistant/testing/openai_server.py); this file only
makes the repository root importable when run by path.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.testing.openai_server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
