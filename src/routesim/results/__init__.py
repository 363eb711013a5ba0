"""Results: what the engine's traces mean. ``measure`` turns traces into volumes, money, daily series and
metrics; ``run`` holds a run's typed result and its statistics; ``summary`` is that result on disk."""
