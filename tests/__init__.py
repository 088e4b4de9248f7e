"""The test suite, a package so that test modules share helpers (`tests.drafting_helpers`,
`tests.kb_fixtures`). The fakes and the local OpenAI-compatible server that tests, evals and
benchmarks share live in `assistant.testing`."""
