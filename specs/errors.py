"""Errors of the specs pipeline: always a file, a location in it, and what is wrong."""

from __future__ import annotations


class SpecError(Exception):
    """Bad input to the pipeline. The CLI prints it and exits with code 2."""

    def __init__(self, file: str, location: str, message: str) -> None:
        super().__init__(f"{file}: {location}: {message}")
        self.file = file
        self.location = location
        self.message = message
