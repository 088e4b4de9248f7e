"""Alembic's migration scripts for the workspace schema (both backends); run by ``assistant.workspace.schema``."""
