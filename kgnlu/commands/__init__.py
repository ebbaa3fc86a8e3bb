"""CLI command groups (``kgnlu graph``, ...)."""
