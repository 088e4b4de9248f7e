"""CLI commands, one module per stage; each registers on `assistant.commands.base.app`;
`assistant.commands.main` imports them all and is the `huibao` entry point."""
