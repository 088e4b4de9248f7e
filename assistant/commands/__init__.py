"""CLI commands, one module per stage; each registers on `assistant.cli.app`."""
