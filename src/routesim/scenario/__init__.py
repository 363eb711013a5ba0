"""The scenario: frozen records of what a user wrote, checked, with its distributions. The loader is the
only reader of YAML (``extends``, ``--set``, size and alias guards); the engine never sees a dict."""
