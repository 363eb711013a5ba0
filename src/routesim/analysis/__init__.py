"""Analyses built on runs: compare, sweep, sensitivity, calibrate, and the replay of history."""
