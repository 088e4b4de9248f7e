"""`huibao` commands for the kb stage."""

from __future__ import annotations

from assistant.cli import app, console, err_console  # noqa: F401
