"""apitwin/lazy_iri.py: importing apitwin and jsonschema builds no RFC 3987 parser, and the iri formats are
still judged by rfc3987-syntax itself once asked."""

from __future__ import annotations

import json
import subprocess
import sys

VALUES = ["http://example.org/ä", "not an iri", "rel/ä?q#f", "", "http://[::1]:80/", "a b"]


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_apitwin_and_jsonschema_leaves_the_grammar_unbuilt():
    code = (
        "import sys, apitwin, jsonschema\n"
        "from openapi_schema_validator import OAS31Validator\n"
        "print('lark' in sys.modules, 'iri' in OAS31Validator.FORMAT_CHECKER.checkers)"
    )
    assert run(code) == "False True"


def test_the_iri_formats_get_the_real_modules_verdicts():
    judged = (
        "import json, sys, {first}\n"
        "from jsonschema import FormatChecker\n"
        "checker = FormatChecker()\n"
        f"values = {VALUES!r}\n"
        "print(json.dumps([[checker.conforms(v, f) for f in ('iri', 'iri-reference')] for v in values]))"
    )
    through_apitwin = json.loads(run(judged.format(first="apitwin")))
    without_apitwin = json.loads(run(judged.format(first="rfc3987_syntax")))
    assert through_apitwin == without_apitwin
    assert [False, False] in through_apitwin and [True, True] in through_apitwin


def test_the_real_module_replaces_the_stand_in_on_first_use():
    code = (
        "import sys, apitwin, jsonschema\n"
        "from apitwin import lazy_iri\n"
        "before = sys.modules['rfc3987_syntax'].__file__ if hasattr(sys.modules['rfc3987_syntax'], '__file__') "
        "else None\n"
        "lazy_iri.is_valid_syntax('iri', 'http://e.org/')\n"
        "import rfc3987_syntax\n"
        "print(before, rfc3987_syntax is lazy_iri.real(), 'lark' in sys.modules)"
    )
    assert run(code) == "None True True"
