"""``apitwin specs`` as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from apitwin.specs.catalogue import SPECS_DIR

PETS_30 = """\
openapi: 3.0.3
info: {title: Pets, version: "1.0"}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer, nullable: true, minimum: 1}}
      responses:
        "200":
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Pet'}}
components:
  schemas:
    Pet:
      type: object
      required: [id]
      properties:
        id: {type: integer}
        name: {type: string, nullable: true, example: Rex}
"""


def apitwin(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "apitwin", *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_normalise_writes_a_lint_clean_31_document_and_its_repair_log(tmp_path):
    source = tmp_path / "pets.yaml"
    source.write_text(PETS_30, encoding="utf-8")
    result = apitwin("specs", "normalise", str(source), "-o", str(tmp_path / "out.json"))
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out.json").read_text())
    assert document["openapi"] == "3.1.0"
    assert document["paths"]["/pets"]["get"]["parameters"][0]["schema"]["type"] == ["integer", "null"]
    repairs = json.loads((tmp_path / "out.repairs.json").read_text())
    assert {"upgrade-3.1", "nullable", "response-description", "schema-example"} <= {r["kind"] for r in repairs}


def test_normalised_output_lints_clean_through_the_cli(tmp_path):
    source = tmp_path / "pets.yaml"
    source.write_text(PETS_30, encoding="utf-8")
    apitwin("specs", "normalise", str(source), "-o", str(tmp_path / "out.json"))
    result = apitwin("specs", "lint", str(tmp_path / "out.json"))
    assert result.returncode == 0, result.stdout
    assert "0 problems" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("openapi: 3.0.3\npaths: [\n", "neither JSON nor YAML"),
        ('{"hello": "world"}', "no 'openapi' field"),
        ("swagger: '2.0'\n", "Swagger 2.0"),
        (
            '{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {}}}}',
            "at least one response",
        ),
        (
            '{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {}, '
            '"components": {"schemas": {"A": {"$ref": "#/components/schemas/Gone"}}}}',
            "dangling reference #/components/schemas/Gone",
        ),
    ],
)
def test_bad_input_exits_2_names_the_file_and_writes_nothing(tmp_path, content, message):
    source = tmp_path / "input.yaml"
    source.write_text(content, encoding="utf-8")
    result = apitwin("specs", "normalise", str(source), "-o", str(tmp_path / "out.json"))
    assert result.returncode == 2
    assert message in result.stderr and "input.yaml" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.yaml"]


def test_missing_file_is_a_clear_error(tmp_path):
    result = apitwin("specs", "normalise", str(tmp_path / "nope.yaml"), "-o", str(tmp_path / "out.json"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_build_with_a_missing_seeds_folder_exits_2(tmp_path):
    result = apitwin("specs", "build", "--seeds", str(tmp_path / "absent"))
    assert result.returncode == 2
    assert "seeds folder does not exist" in result.stderr


def test_build_with_an_unparseable_seed_exits_2_and_leaves_the_specs_alone(tmp_path, seeds):
    import shutil

    from apitwin.specs.catalogue import shipped

    broken = tmp_path / "seeds"
    broken.mkdir()
    for path in seeds.iterdir():
        shutil.copy(path, broken / path.name)
    api = shipped("lmdeploy")
    target = broken / api.seed
    target.write_text(target.read_text(encoding="utf-8")[:5000], encoding="utf-8")  # truncated mid-endpoint
    before = api.spec_path.read_bytes()
    result = apitwin("specs", "build", "--seeds", str(broken), "--api", "lmdeploy")
    assert result.returncode == 2, result.stdout + result.stderr
    assert api.seed in result.stderr
    assert api.spec_path.read_bytes() == before


def test_list_shows_the_six_apis():
    result = apitwin("specs", "list")
    assert result.returncode == 0, result.stderr
    for name in ("aimlapi", "openai-responses", "openresponses", "lmdeploy", "lmdeploy-proxy", "sequrity"):
        assert name in result.stdout


def test_report_groups_repairs_by_kind():
    result = apitwin("specs", "report", "lmdeploy")
    assert result.returncode == 0, result.stderr
    assert "repairs in" in result.stdout


def test_show_unknown_api_exits_2():
    result = apitwin("specs", "show", "no-such-api")
    assert result.returncode == 2
    assert "not a shipped API" in result.stderr


def test_models_lists_the_ids_the_spec_pins_one_per_line():
    result = apitwin("specs", "models", "aimlapi")
    assert result.returncode == 0, result.stderr
    ids = result.stdout.split()
    assert len(ids) == 406 and ids == sorted(ids) and "gpt-4o" in ids


def test_models_of_one_operation_as_json(tmp_path):
    spec = tmp_path / "pets.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /chat:\n    post:\n      operationId: chat\n"
        "      requestBody:\n        content:\n          application/json:\n            schema:\n"
        "              type: object\n              properties:\n                model: {enum: [small, large]}\n"
        "      responses:\n        '200': {description: ok}\n"
    )
    result = apitwin("specs", "models", str(spec), "--operation", "chat", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["small", "large"]
    wrong = apitwin("specs", "models", str(spec), "--operation", "nope")
    assert wrong.returncode == 2 and "has no operation 'nope'; its operations: chat" in wrong.stderr


def test_models_of_an_api_that_accepts_any_id_says_so_on_stderr():
    result = apitwin("specs", "models", "lmdeploy")
    assert result.returncode == 0 and result.stdout == ""
    assert "any model id is accepted" in result.stderr


def test_top_level_help_and_version_import_no_command():
    probe = (
        "import sys\nfrom click.testing import CliRunner\nfrom apitwin.contracts.cli import main\n"
        "runner = CliRunner()\n"
        "assert runner.invoke(main, ['--help']).exit_code == 0\n"
        "assert runner.invoke(main, ['--version']).output.startswith('apitwin ')\n"
        "print(sorted(name for name in sys.modules if name.startswith('apitwin.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    # lazy_iri is apitwin's own start-up (it keeps jsonschema from building an RFC 3987 parser), not a command
    assert result.stdout.strip() == "['apitwin.contracts', 'apitwin.contracts.cli', 'apitwin.lazy_iri']"


def test_every_option_of_every_command_has_help():
    import click

    from apitwin.contracts.cli import main

    undocumented = []

    def visit(command: click.Command, name: str) -> None:
        for parameter in command.params:
            if isinstance(parameter, click.Option) and not parameter.help and not parameter.hidden:
                undocumented.append(f"{name} {parameter.opts[0]}")
        if isinstance(command, click.Group):
            context = click.Context(command)
            for child in command.list_commands(context):
                sub = command.get_command(context, child)
                assert sub is not None
                visit(sub, f"{name} {child}")

    visit(main, "apitwin")
    assert undocumented == []


@pytest.mark.seeds
def test_report_accounts_for_every_doc_sample(seeds, tmp_path):
    result = apitwin("specs", "report", "aimlapi", "--seeds", str(seeds), "--conflicts", "3")
    assert result.returncode == 0, result.stderr
    assert "doc samples in 000_60ec40ea988564ea.txt" in result.stdout
    assert result.stdout.count("  doc-conflict ") == 3 and "more conflicts (all with --json)" in result.stdout
    # Every URL the samples call is served now (issue 12), so the report lists none.
    assert "URLs the samples call that no operation serves" not in result.stdout
    # The repair log's doc-conflict causes come after the repairs, the header counting repairs only.
    header = result.stdout.splitlines()[0]
    repairs = json.loads((SPECS_DIR / "apis" / "aimlapi" / "repairs.json").read_text(encoding="utf-8"))
    causes = [repair for repair in repairs if repair["kind"] == "doc-conflict"]
    assert header.startswith(f"aimlapi: {len(repairs) - len(causes)} repairs in ")
    assert f"\ndoc-conflict ({len(causes)} causes)" in result.stdout
    assert "on 10 pages disagree with the spec at /choices/*/finish_reason" in result.stdout
    as_json = apitwin("specs", "report", "aimlapi", "--seeds", str(seeds), "--json")
    report = json.loads(as_json.stdout)
    samples = report["doc_samples"]
    classes = ("valid", "repaired", "conflict", "unparseable", "unresolved", "unrouted")
    for kind in ("request", "response"):
        listed = [sample for sample in samples["samples"] if sample["kind"] == kind]
        assert samples["counts"][kind]["found"] == len(listed) == sum(samples["counts"][kind][c] for c in classes)
    assert report["doc_conflicts"] == causes
    end_turn = [sample for sample in samples["samples"] if "'end_turn' is not one of" in (sample["message"] or "")]
    assert end_turn and all(sample["pointer"] == "/choices/0/finish_reason" for sample in end_turn)
    assert all(sample["page"].startswith("https://docs.aimlapi.com/") for sample in end_turn)
