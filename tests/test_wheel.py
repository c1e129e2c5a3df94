"""The wheel ships the grammar, and the installed CLI works away from the repository.

Builds the wheel from a copy of the source (so the shared tree gets no build/ folder),
checks grammar/symparams.lark is inside as symparams/grammar/symparams.lark, installs it
into a fresh venv (system site-packages give it sympy and lark, nothing is downloaded)
and runs the `symparams` console script from an unrelated directory.

When the suite itself runs in a venv (as the README suggests), `--system-site-packages`
means the *base* interpreter's packages, which may lack lark and sympy: the new venv also
gets a .pth naming this interpreter's site-packages. A .pth line only appends a path
(the .pth files there, such as an editable install's finder, are not run), after the venv's
own site-packages, so the wheel installed in the venv is still what is imported.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis",
                                ".pytest_cache", ".mypy_cache", ".ruff_cache", "*.pyc")


def _run(argv: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=IGNORE)
    done = _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work / "dist")],
                cwd=source)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (built,) = (work / "dist").glob("symparams-*.whl")
    return built


def test_wheel_holds_the_grammar(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "symparams/grammar/symparams.lark" in names
    grammar = zipfile.ZipFile(wheel).read("symparams/grammar/symparams.lark").decode()
    assert grammar == (ROOT / "grammar" / "symparams.lark").read_text()
    assert any(name.endswith("entry_points.txt") for name in names)


def _see_this_interpreters_packages(python: Path) -> None:
    """A .pth in the new venv listing the site-packages of the interpreter running the tests."""
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=python.parent)
    assert purelib.returncode == 0, purelib.stderr
    ours = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()]
    lines = list(dict.fromkeys(path for path in ours if os.path.isdir(path)))
    (Path(purelib.stdout.strip()) / "_outer_site_packages.pth").write_text("\n".join(lines) + "\n")


def test_venv_sees_the_packages_of_the_interpreter_running_the_tests(tmp_path):
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], cwd=tmp_path).returncode == 0
    _see_this_interpreters_packages(venv / "bin" / "python")
    import lark

    done = _run([str(venv / "bin" / "python"), "-c", "import lark; print(lark.__file__)"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve() == Path(lark.__file__).resolve()


def test_installed_cli_runs_outside_the_repository(wheel, tmp_path):
    venv = tmp_path / "venv"
    done = _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    python = venv / "bin" / "python"
    _see_this_interpreters_packages(python)
    done = _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The package and its grammar come from the venv, not from the repository.
    probe = "import symparams, symparams.language.parsing as p; print(symparams.__file__); print(len(p.grammar_text()))"
    where = _run([str(python), "-c", probe], cwd=elsewhere)
    assert where.returncode == 0, where.stderr
    assert where.stdout.splitlines()[0].startswith(str(venv))
    done = _run([str(venv / "bin" / "symparams"), "I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "--json"],
                cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["params"] == 217_706
    done = _run([str(venv / "bin" / "symparams"), "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"], cwd=elsewhere)
    assert done.returncode == 0 and "Conditions: h >= 12, w >= 12" in done.stdout
    done = _run([str(venv / "bin" / "symparams"), "I(28,28,1)-C(32,5-P(2)"], cwd=elsewhere)
    assert done.returncode == 2 and "^" in done.stderr and "Traceback" not in done.stderr
