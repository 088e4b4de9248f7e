"""The evals (run from the project folder as modules, e.g. `python -m evals.replay`); see evals/README.md."""
