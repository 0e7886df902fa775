from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"

# Example counts are sized so `make test` stays well inside its budget on a 2-core machine;
# APITWIN_HYPOTHESIS_PROFILE=thorough runs the same properties harder.
settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
settings.register_profile("thorough", max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("APITWIN_HYPOTHESIS_PROFILE", "ci"))

# Spec files the tests normalise are cached in a directory of this run, never in the user's ~/.cache
# (specs/spec_cache.py); servers the tests start inherit it.
_SPEC_CACHE = tempfile.mkdtemp(prefix="apitwin-test-cache-")
os.environ["APITWIN_CACHE_DIR"] = _SPEC_CACHE
atexit.register(shutil.rmtree, _SPEC_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"the vendor documents are not beside the repository ({SEEDS} is absent)")
    return SEEDS
