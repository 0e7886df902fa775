"""A vendor document as the importers see it: its text, its name, and line lookups."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from apitwin.specs.errors import SpecError


@dataclass(slots=True)
class Source:
    """One raw vendor document. ``name`` is what provenance and errors call it."""

    name: str
    text: str
    _line_starts: list[int] = field(default_factory=list, repr=False)

    @classmethod
    def read(cls, path: Path) -> Source:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError(str(path), "file", "no such file") from None
        except UnicodeDecodeError as error:
            raise SpecError(str(path), f"byte {error.start}", "not UTF-8 text") from None
        return cls(path.name, text)

    def line_of(self, offset: int) -> int:
        """The 1-based line number of a character offset."""
        if not self._line_starts:
            starts = [0]
            index = self.text.find("\n")
            while index != -1:
                starts.append(index + 1)
                index = self.text.find("\n", index + 1)
            self._line_starts = starts
        return bisect.bisect_right(self._line_starts, offset)

    def where(self, offset: int) -> str:
        """``file:line`` for a character offset, the form every provenance record uses."""
        return f"{self.name}:{self.line_of(offset)}"

    def error(self, offset: int, message: str) -> SpecError:
        return SpecError(self.name, f"line {self.line_of(offset)}", message)
