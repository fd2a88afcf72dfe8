"""Parser events of a JSON document turned into records, with no recursion.

ijson hands out a flat sequence of events (``start_map``, ``map_key``, ``string``,
``end_array``…); a small state machine builds one record at a time from them, so
neither the document's size nor its nesting costs memory or stack beyond the
record being built. Which objects are records follows the document shapes that
:mod:`.jsondoc` describes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ...settings import IngestLimits, format_size, limit_names
from ..records import Found, Reject, excerpt
from .jsonmap import map_object

__all__ = ["WRAPPER_KEYS", "Entries", "deeper_than"]

WRAPPER_KEYS = frozenset(("articles", "items", "data", "results", "records", "docs", "entries", "news"))
_TITLE_KEYS = frozenset(("title", "headline"))


def deeper_than(limit: int) -> str:
    """The reason for a value nested past the bound."""
    return f"nested deeper than {limit} levels ({limit_names('max_depth')})"


_SPINE, _RECORD, _SKIP, _WRAPPER, _LIST = range(5)
_SCALAR_TYPES = {"string": "str", "number": "number", "boolean": "bool", "null": "NoneType"}


class Entries:
    """Turns parser events into records: a state machine, so no nesting costs stack.

    Modes: on the spine (top-level arrays, flattened), building a record, skipping a
    value (too large, too deep, or beside a wrapper's list), inside a wrapper object,
    or in a wrapper's list. ``depth`` counts the arrays and objects open.
    """

    def __init__(self, limits: IngestLimits, depth: int = 0, cut: list[int] | None = None) -> None:
        """``cut``: indexes of the strings (values and keys, in document order) that were
        too long and reached the parser as ``""``; filled as the document streams."""
        self.max_depth = limits.max_depth
        self.max_bytes = limits.max_record_bytes
        self.depth = depth
        self.mode = _SPINE
        self.entry = 0
        self.item = 0
        self.where = "entry 1"
        # the record being built
        self.root: dict[str, Any] = {}
        self.stack: list[Any] = []
        self.keys: list[str | None] = []
        self.size = 0
        self.base = 0  # depth of the record's own object
        self.candidate = False  # a top-level object: it may turn out to wrap a list
        self.back = _SPINE  # the mode to return to after the record or a skip
        self.skip_to = 0
        self.wrapper_depth = 0
        self.cut = cut if cut is not None else []
        self.strings = 0  # strings met so far
        self.next_cut = 0  # the first entry of ``cut`` not met yet

    # -- helpers

    def _start_record(self, where: str, *, candidate: bool, back: int) -> None:
        self.where = where
        self.mode = _RECORD
        self.root = {}
        self.stack = [self.root]
        self.keys = [None]
        self.size = 2
        self.base = self.depth
        self.candidate = candidate
        self.back = back

    def _skip(self, to: int, back: int) -> None:
        self.root, self.stack, self.keys = {}, [], []
        self.mode, self.skip_to, self.back = _SKIP, to, back

    def _found(self, obj: dict[str, Any]) -> Found | Reject:
        try:
            return Found(self.where, map_object(obj))
        except Exception as exc:  # a shape the mapping did not foresee is this record's problem
            return Reject(self.where, f"could not be read: {type(exc).__name__}: {exc}")

    def next_where(self) -> str:
        """The label of what the parser is in: for an error's reject."""
        if self.mode == _SPINE:
            return f"entry {self.entry + 1}"
        if self.mode == _LIST:
            return f"entry {self.entry} item {self.item + 1}"
        return self.where

    # -- events

    def feed(self, events: list[tuple[str, Any]]) -> Iterator[Found | Reject]:
        for event, value in events:
            opens = event == "start_map" or event == "start_array"
            closes = event == "end_map" or event == "end_array"
            if opens:
                self.depth += 1
            elif closes:
                self.depth -= 1
            mode = self.mode
            if (event == "string" or event == "map_key") and self._was_cut():
                if mode == _RECORD:
                    yield self._too_large()
                    continue
                value = "…"
            if mode == _SKIP:
                if closes and self.depth == self.skip_to:
                    self.mode = self.back
                continue
            if opens and self.max_depth and self.depth > self.max_depth:
                if mode == _RECORD:
                    self._skip(self.base - 1, self.back)
                elif mode == _LIST:
                    self.item += 1
                    self.where = f"entry {self.entry} item {self.item}"
                    self._skip(self.depth - 1, _LIST)
                else:
                    if mode == _SPINE:
                        self.entry += 1
                        self.where = f"entry {self.entry}"
                    self._skip(self.depth - 1, mode)
                yield Reject(self.where, deeper_than(self.max_depth))
                continue
            if mode == _RECORD:
                yield from self._record(event, value, opens, closes)
            elif mode == _SPINE:
                if event == "start_map":
                    self.entry += 1
                    self._start_record(f"entry {self.entry}", candidate=True, back=_SPINE)
                elif not opens and not closes:
                    self.entry += 1
                    self.where = f"entry {self.entry}"
                    yield self._not_object(event, value)
            elif mode == _LIST:
                if event == "end_array":
                    self.mode = _WRAPPER
                elif event == "start_map":
                    self.item += 1
                    self._start_record(f"entry {self.entry} item {self.item}", candidate=False, back=_LIST)
                else:
                    self.item += 1
                    self.where = f"entry {self.entry} item {self.item}"
                    if opens:
                        self._skip(self.depth - 1, _LIST)
                    yield self._not_object(event, value)
            elif mode == _WRAPPER:
                if event == "end_map" and self.depth == self.wrapper_depth - 1:
                    self.mode = _SPINE
                elif opens:
                    self._skip(self.depth - 1, _WRAPPER)

    def _not_object(self, event: str, value: Any) -> Reject:
        kind = "list" if event == "start_array" else _SCALAR_TYPES.get(event, event)
        if event == "number":
            kind = type(value).__name__
        sample = "" if event == "start_array" else excerpt(json.dumps(value, ensure_ascii=False))
        return Reject(self.where, f"expected a JSON object, got {kind}", sample)

    def _record(self, event: str, value: Any, opens: bool, closes: bool) -> Iterator[Found | Reject]:
        stack, keys = self.stack, self.keys
        if event == "map_key":
            keys[-1] = value
            self.size += len(value) + 4
        elif closes:
            stack.pop()
            keys.pop()
            if not stack:
                self.mode = self.back
                yield self._found(self.root)
                return
        else:
            if event == "start_array" and self._unwraps():
                return
            if opens:
                new: Any = {} if event == "start_map" else []
                self.size += 2
            else:
                new = value
                self.size += len(value) + 2 if isinstance(value, str) else 8
            parent = stack[-1]
            if isinstance(parent, dict):
                parent[keys[-1]] = new
            else:
                parent.append(new)
            if opens:
                stack.append(new)
                keys.append(None)
        if self.max_bytes and self.size > self.max_bytes:
            yield self._too_large()

    def _was_cut(self) -> bool:
        """Whether the string just met was too long (and replaced by ``""``)."""
        self.strings += 1
        if self.next_cut < len(self.cut) and self.cut[self.next_cut] == self.strings - 1:
            self.next_cut += 1
            return True
        return False

    def _too_large(self) -> Reject:
        """The record being built is over the bound: skip the rest of it."""
        self._skip(self.base - 1, self.back)
        return Reject(
            self.where, f"record too large (over {format_size(self.max_bytes)}; {limit_names('max_record_bytes')})"
        )

    def _unwraps(self) -> bool:
        """A list under a wrapper key of a top-level object with no title: read its items."""
        if not (self.candidate and len(self.stack) == 1 and self.keys[-1] in WRAPPER_KEYS):
            return False
        if _TITLE_KEYS & self.root.keys():
            return False
        self.candidate = False
        self.root, self.stack, self.keys = {}, [], []
        self.wrapper_depth = self.base
        self.item = 0
        self.mode = _LIST
        return True
