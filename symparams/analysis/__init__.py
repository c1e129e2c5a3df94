"""Analyses: pure functions of the result record (targets, solve, sweep)."""
