"""Test package: makes `assistant.testing.openai_server` importable from test modules, bench/ and
`python -m assistant.testing.openai_server`."""
