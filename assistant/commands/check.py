"""`huibao` commands for the check stage."""

from __future__ import annotations

from assistant.cli import app, console, err_console  # noqa: F401
