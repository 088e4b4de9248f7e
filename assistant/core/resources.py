"""Where the folders that ship with huibao are: prompts/, examples/, the sample knowledge base and app.py.

In a source checkout (plain or `pip install -e .`) they are the top-level folders of the project,
where a newcomer edits them. A built wheel carries copies under `assistant/bundled/` (setup.py
copies them in at build time), so an installed huibao drafts from any working folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
BUNDLED = Path(__file__).resolve().parent.parent / "bundled"

Resource = Literal["prompts", "examples", "knowledge"]


def installed() -> bool:
    """True in an installed wheel, False in a source checkout (editable installs included)."""
    return BUNDLED.is_dir()


def resource_dir(name: Resource) -> Path:
    """The folder holding the shipped prompts, example report or sample knowledge base."""
    return BUNDLED / name if installed() else PROJECT_ROOT / name


def app_script() -> Path:
    """The Streamlit entry script (app.py): the project's in a checkout, the bundled copy when installed."""
    return BUNDLED / "app.py" if installed() else PROJECT_ROOT / "app.py"


def server_script() -> Path:
    """What `huibao ui` runs (serve.py): app.py served with the sign-in routes, beside app.py."""
    return app_script().with_name("serve.py")


def default_data_dir() -> Path:
    """The project's data/ in a checkout; ./data of the working folder when installed."""
    return Path.cwd() / "data" if installed() else PROJECT_ROOT / "data"
