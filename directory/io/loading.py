"""What every loader shares: its error, and how it reports progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
# ``progress(items, label)`` yields the items, drawing a bar as it goes (``flask`` commands
# pass click's progress bar; services and tests pass nothing).
Progress = Callable[[Sequence[T], str], Iterable[T]]


class LoadError(ValueError):
    """An input file that cannot be loaded; the message names the file and the row or
    feature at fault. Loaders raise it before the caller commits, so nothing is written."""


def no_progress(items: Sequence[Any], _label: str) -> Iterable[Any]:
    return items
