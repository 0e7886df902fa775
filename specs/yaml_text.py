"""YAML text to Python values, with libyaml when PyYAML was built with it.

libyaml's safe loader reads the same values as PyYAML's pure-Python one (dates, non-string keys and all,
which normalisation repairs) about ten times faster: seconds, not half a minute, on a 3 MB published spec.
"""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """The value of one YAML document; raises ``yaml.YAMLError`` (with ``problem_mark``) on bad text."""
    return yaml.load(text, Loader=SAFE_LOADER)
