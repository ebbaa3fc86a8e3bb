"""Evaluation tasks and their reports (JSON + short markdown)."""
