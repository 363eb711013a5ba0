"""What a run leaves on disk: the run directory (one atomic writer), plots (figure builders that take
results) and the HTML report. Nothing here runs a simulation."""
