"""apitwin: mock servers and contract tests from the published API specs of LLM gateways.

The distribution installs this one import package. Its sub-packages live in the repository's
top-level folders, which show the pipeline: ``specs/`` (build and load the specs),
``mockserver/`` (serve them) and ``contracts/`` (hold clients and gateways to them);
``pyproject.toml`` maps them to ``apitwin.specs``, ``apitwin.mockserver`` and ``apitwin.contracts``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from apitwin import lazy_iri

lazy_iri.install()  # before any sub-package imports jsonschema (see lazy_iri: ~2 s per process)

try:
    __version__ = version("apitwin")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
