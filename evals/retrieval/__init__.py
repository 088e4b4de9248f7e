"""Labelled retrieval queries and their scorer (scoring.py); see README.md."""
