"""`huibao` commands for the draft stage."""

from __future__ import annotations

from assistant.cli import app, console, err_console  # noqa: F401
