"""Put this folder on a child's PYTHONPATH to run it under the tests' network guard."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))  # the checkout, for tests.*

from tests.network_guard import install  # noqa: E402

install()
