"""kgnlu: knowledge-graph-aware language understanding."""

__version__ = "0.1.0"
