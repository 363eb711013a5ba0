"""Runs: replications in chunks on an executor (in process, a process pool, Dask), folded as they come
back, within a memory budget."""
