"""kgnlu: knowledge-graph-aware language understanding."""

from kgnlu.version import __version__


def __getattr__(name: str):
    # Lazy, so `import kgnlu` (and kgnlu.encoders) stays light: KGQA pulls in the linker and spaCy.
    if name == "KGQA":
        from kgnlu.qa import KGQA

        return KGQA
    raise AttributeError(f"module 'kgnlu' has no attribute {name!r}")


__all__ = ["KGQA", "__version__"]
