"""The workspace layer: saved reports and their versions, above drafting, below export.

* ``store.py``: the SQLite file only (schema, migrations, transactions, durability).
* ``service.py``: the rules (regenerate, hand-edit re-check, revert, staleness, diffs) and
  ``Workspace``, the object callers open: ``Workspace.open(path)`` wraps a ``Store``.
* ``chat.py``: the workspace chat, turning what staff type into actions on a report.
* ``backup.py``: a consistent copy of the workspace file, and putting one back.
"""
