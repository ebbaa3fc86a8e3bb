"""The package version, in a base-layer module so any layer may record it (see docs/architecture.md)."""

__version__ = "0.1.0"
