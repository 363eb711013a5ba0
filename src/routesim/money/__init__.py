"""Money: Brent by day and each route's netback (market), and the state's take of it (fiscal)."""
