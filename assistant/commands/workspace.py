"""`huibao` commands for the workspace stage."""

from __future__ import annotations

from assistant.cli import app, console, err_console  # noqa: F401
