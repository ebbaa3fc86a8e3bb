"""The KGE model registry: ``MODELS.get("rotate")`` → the class."""

from __future__ import annotations

from kgnlu.registry import Registry

MODELS: Registry = Registry("KGE model")
