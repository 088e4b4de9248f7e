"""The workspace layer: saved reports and their versions, above drafting, below export.

* ``store.py``: the SQL only (tables, transactions, durability), on either backend.
* ``db.py``: the backends: a SQLite file, or a PostgreSQL database (``HUIBAO_DATABASE_URL``).
* ``schema.py`` and ``migrations/``: the schema's versions, migrated by Alembic on both backends.
* ``service.py``: the rules (regenerate, hand-edit re-check, revert, staleness, diffs) and
  ``Workspace``, the object callers open: ``Workspace.open(path)`` wraps a ``Store``.
* ``chat.py``: the workspace chat, turning what staff type into actions on a report.
* ``backup.py`` (and ``pgbackup.py`` for PostgreSQL): a consistent copy of the workspace, and
  putting one back.
"""
