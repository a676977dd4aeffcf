"""The sidecar's own copy of each open document, cheap to update, so the text before a change is at hand.

pygls rebuilds its whole copy of a document on every change; here a document is a list of lines and a change
touches only the lines it spans, so keeping the text before an edit episode costs one list copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """Lines with their endings (LSP line breaks: \\r\\n, \\r or \\n); no empty last line."""
    return _LINE.findall(text)


def _content_length(line: str) -> int:
    if line.endswith("\r\n"):
        return len(line) - 2
    if line.endswith(("\n", "\r")):
        return len(line) - 1
    return len(line)


def utf16_to_index(line: str, character: int, encoding: str = "utf-16") -> int:
    """The Python string index of an LSP `character` offset in `line`, clamped to the line's content."""
    limit = _content_length(line)
    if encoding == "utf-32" or line.isascii():
        return min(character, limit)
    if encoding == "utf-8":
        data = line[:limit].encode("utf-8")
        return len(data[:character].decode("utf-8", errors="ignore"))
    units = 0
    for index, char in enumerate(line[:limit]):
        if units >= character:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return limit


@dataclass
class MirroredDocument:
    """One open document: its lines and version."""

    uri: str
    lines: list[str]
    version: int | None = None
    language_id: str | None = None
    encoding: str = "utf-16"

    @classmethod
    def from_text(
        cls, uri: str, text: str, version: int | None = None, language_id: str | None = None
    ) -> MirroredDocument:
        return cls(uri, split_lines(text), version, language_id)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def snapshot(self) -> list[str]:
        """The current lines (a shallow copy: lines are immutable strings)."""
        return list(self.lines)

    def replace_all(self, text: str) -> None:
        self.lines = split_lines(text)

    def apply(self, start: tuple[int, int], end: tuple[int, int], new_text: str) -> None:
        """Replace the range `start`..`end` ((line, character) in the client's encoding) with `new_text`."""
        lines = self.lines
        (l1, c1), (l2, c2) = start, end
        if (l2, c2) < (l1, c1):
            (l1, c1), (l2, c2) = (l2, c2), (l1, c1)
        count = len(lines)
        l1, l2 = min(l1, count), min(l2, count)
        first = lines[l1] if l1 < count else ""
        last = lines[l2] if l2 < count else ""
        i1 = utf16_to_index(first, c1, self.encoding)
        i2 = utf16_to_index(last, c2, self.encoding)
        merged = first[:i1] + new_text + last[i2:]
        lines[l1 : min(l2 + 1, count)] = split_lines(merged)


@dataclass
class Mirror:
    """All open documents by URI."""

    documents: dict[str, MirroredDocument] = field(default_factory=dict)
    encoding: str = "utf-16"

    def open(self, uri: str, text: str, version: int | None, language_id: str | None) -> MirroredDocument:
        document = MirroredDocument.from_text(uri, text, version, language_id)
        document.encoding = self.encoding
        self.documents[uri] = document
        return document

    def get(self, uri: str) -> MirroredDocument | None:
        return self.documents.get(uri)

    def close(self, uri: str) -> MirroredDocument | None:
        return self.documents.pop(uri, None)
