"""The install, as a client team gets it: one import package, a plugin that leaves their own packages alone.

The end-to-end tests build the wheel, install it into a fresh venv outside the repository (then the
repository itself, editable, into the same venv) and run pytest in a user project whose own packages are
called ``contracts``, ``specs`` and ``mockserver`` — the names of this repository's folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _installed_name(folder: Path) -> str:
    """The import name setuptools gives ``folder`` through the package-dir mapping."""
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    relative = folder.relative_to(REPO).as_posix()
    for name, root in sorted(mapping.items(), key=lambda item: -len(item[1])):
        if relative == root or relative.startswith(root + "/"):
            rest = relative[len(root) :].strip("/")
            return ".".join([name, *rest.split("/")]) if rest else name
    raise AssertionError(f"{relative} holds an __init__.py but no package-dir entry maps it")


def test_the_packages_list_is_every_mapped_folder_with_an_init() -> None:
    roots = PYPROJECT["tool"]["setuptools"]["package-dir"].values()
    folders = {init.parent for root in roots for init in (REPO / root).rglob("__init__.py")}
    assert sorted(_installed_name(folder) for folder in folders) == sorted(PYPROJECT["tool"]["setuptools"]["packages"])


def test_only_apitwin_is_a_top_level_name() -> None:
    assert {name.split(".")[0] for name in PYPROJECT["tool"]["setuptools"]["packages"]} == {"apitwin"}


USER_TEST = """
import httpx
import pytest

import contracts
import mockserver
import specs


def test_the_projects_own_packages_are_imported():
    assert (contracts.OWNER, specs.OWNER, mockserver.OWNER) == ("user", "user", "user")


@pytest.mark.apitwin(api="aimlapi")
def test_the_mock_serves(apitwin_mock):
    headers = {"Authorization": f"Bearer {apitwin_mock.api_key}"}
    answer = httpx.get(f"{apitwin_mock.base_url}/v1/models", headers=headers)
    assert answer.status_code == 200
    assert [record.status for record in apitwin_mock.requests] == [200]
"""

UNRELATED_TEST = """
import sys


def test_only_the_plugin_itself_was_imported():
    loaded = sorted(name for name in sys.modules if name.split(".")[0] == "apitwin")
    # apitwin.lazy_iri is apitwin's own start-up (stdlib only): it keeps jsonschema from building a parser
    assert loaded == ["apitwin", "apitwin.contracts", "apitwin.contracts.pytest_plugin", "apitwin.lazy_iri"]
"""


def _user_project(root: Path) -> Path:
    project = root / "user-project"
    for package in ("contracts", "specs", "mockserver"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text('OWNER = "user"\n')
    (project / "tests").mkdir()
    (project / "tests" / "test_user.py").write_text(USER_TEST)
    (project / "tests" / "test_unrelated.py").write_text(UNRELATED_TEST)
    (project / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    return project


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A venv outside the repository with the built wheel installed, and a user project beside it."""
    root = tmp_path_factory.mktemp("packaging")
    wheels = root / "wheels"
    built = _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels, REPO, cwd=root)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("apitwin-*.whl")
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    installed = _run(python, "-m", "pip", "install", "--quiet", wheel, cwd=root)
    assert installed.returncode == 0, installed.stderr
    yield python, _user_project(root)


def _pytest(python: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers", *args, cwd=project)


def _assert_user_project_passes(python: Path, project: Path) -> None:
    outcome = _pytest(python, project, "tests/test_user.py")
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "2 passed" in outcome.stdout
    lazy = _pytest(python, project, "tests/test_unrelated.py")
    assert lazy.returncode == 0, lazy.stdout + lazy.stderr


@pytest.mark.e2e
def test_wheel_install_keeps_the_users_packages_and_the_plugin_works(user_venv: tuple[Path, Path]) -> None:
    python, project = user_venv
    where = _run(python, "-c", "import apitwin, apitwin.contracts; print(apitwin.contracts.__file__)", cwd=project)
    assert "site-packages" in where.stdout, where.stderr
    _assert_user_project_passes(python, project)
    version = _run(python.parent / "apitwin", "--version", cwd=project)
    assert version.stdout.strip().startswith("apitwin ")


@pytest.mark.e2e
def test_editable_install_does_too(user_venv: tuple[Path, Path]) -> None:
    python, project = user_venv
    editable = _run(python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", REPO, cwd=project)
    assert editable.returncode == 0, editable.stderr
    where = _run(python, "-c", "import apitwin.contracts; print(apitwin.contracts.__file__)", cwd=project)
    assert where.stdout.strip() == str(REPO / "contracts" / "__init__.py"), where.stderr
    _assert_user_project_passes(python, project)
