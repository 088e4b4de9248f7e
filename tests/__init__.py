"""Test package: makes `tests.fake_openai` importable from test modules, bench/ and
`python -m tests.fake_openai`."""
