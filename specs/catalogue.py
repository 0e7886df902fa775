"""The APIs apitwin ships: which vendor document each is built from, and by which importer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPECS_DIR = Path(__file__).resolve().parent
APIS_DIR = SPECS_DIR / "apis"
OVERLAYS_DIR = SPECS_DIR / "overlays"
DEFAULT_SEEDS = SPECS_DIR.parent.parent / "shared" / "seeds"


@dataclass(frozen=True, slots=True)
class ShippedApi:
    name: str
    seed: str
    importer: str
    """Module under ``specs.importers`` that reads the seed's format."""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def spec_path(self) -> Path:
        return APIS_DIR / self.name / "openapi.json"

    @property
    def repairs_path(self) -> Path:
        return APIS_DIR / self.name / "repairs.json"

    @property
    def doc_samples_path(self) -> Path:
        """The vendor's doc samples judged against the spec (``specs/sample_verdicts.py``), for a page dump."""
        return APIS_DIR / self.name / "doc-samples.json"

    @property
    def overlay_path(self) -> Path:
        return OVERLAYS_DIR / f"{self.name}.yaml"


SHIPPED: tuple[ShippedApi, ...] = (
    ShippedApi("aimlapi", "000_60ec40ea988564ea.txt", "aimlapi"),
    ShippedApi(
        "openai-responses",
        "001_7f8f9858cfbc6f13.txt",
        "responses_object",
        {"method": "post", "path": "/v1/responses", "title": "OpenAI-style Responses API"},
    ),
    ShippedApi("openresponses", "002_bf711351a78fbd44.txt", "openapi_document"),
    ShippedApi("lmdeploy", "003_0bfc53774b3c3c0a.txt", "sphinx_text", {"section": "api_server"}),
    ShippedApi("lmdeploy-proxy", "003_0bfc53774b3c3c0a.txt", "sphinx_text", {"section": "proxy"}),
    ShippedApi("sequrity", "004_fe8d8c04ab290f2c.txt", "pydantic_sdk"),
)


def shipped(name: str) -> ShippedApi | None:
    for api in SHIPPED:
        if api.name == name:
            return api
    return None


def names() -> list[str]:
    return [api.name for api in SHIPPED]
