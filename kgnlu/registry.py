"""A registry per kind (sources, encoders, heads, objectives, injection layers, KGE models).

``SOURCES.register("wordnet")(WordNetSource)`` then ``SOURCES.get("wordnet")`` resolves the
name to the class; unknown names raise :class:`~kgnlu.errors.UnknownNameError` with close matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from kgnlu.errors import ConfigError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise ConfigError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._items) from None

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())

    def in_order(self) -> list[tuple[str, T]]:
        """The entries in registration order (``items`` sorts by name)."""
        return list(self._items.items())

    def __len__(self) -> int:
        return len(self._items)
