"""The README's own examples, run and compared with the README's text.

* In an indented block, `$ symparams ARGS` runs `symparams.cli.main(shlex.split(ARGS))`
  in a scratch directory (a trailing `# comment` is dropped, and must appear in the
  output when it is a formula rather than prose). The indented lines after it, up to the
  next `$` line or the end of the block, are its output: `...` stands for any lines, every
  other line must appear, in order, in what symparams prints (stdout, then stderr), a
  line ending in ` ...` as a prefix. An
  expected output that starts with an error headline ("Invalid ...", "Cannot ...") expects
  exit status 2, any other status 0.
* An indented line that starts `symparams "` without `$` would escape the check: refused.
  (`symparams ARCH ...` lines are usage, not commands.)
* Every ```python block runs, in one namespace per block; `expr  # value` lines compare
  str(expr) with the comment when the comment is a value rather than prose.
* Inline Python calls on the README's `net` in the prose (`net.sweep(...)`) run too.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest

from symparams.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")
ERROR = re.compile(r"(Invalid \w+|Cannot \w+|Input too large)( at |: )")


def _blocks(text: str) -> list[list[str]]:
    """The indented (4 spaces) blocks outside fenced code."""
    blocks, block, fenced = [], [], False
    for line in text.splitlines() + [""]:
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("    "):
            block.append(line[4:])
        elif not fenced and line.strip() == "" and block:
            block.append("")
        else:
            if block:
                blocks.append(block)
            block = []
    return [b for b in blocks if any(x.strip() for x in b)]


def readme_commands() -> list[tuple[str, str, list[str]]]:
    found = []
    for block in _blocks(TEXT):
        block = [line.strip() for line in block]  # also the blocks inside a list item
        i = 0
        while i < len(block):
            line = block[i]
            if line.startswith("$ symparams "):
                command, _, comment = line[len("$ symparams ") :].partition("  #")
                j = i + 1
                while j < len(block) and not block[j].startswith("$ "):
                    j += 1
                found.append((command.strip(), comment.strip(), [x for x in block[i + 1 : j] if x.strip()]))
                i = j
            else:
                i += 1
    return found


def test_the_readme_has_commands_and_every_command_line_is_checked():
    assert len(readme_commands()) >= 10
    unchecked = [
        line
        for block in _blocks(TEXT)
        for line in block
        if line.startswith("symparams ") and "ARCH" not in line.split()[:3]
    ]
    assert unchecked == [], "write these as `$ symparams ...` so that a test runs them"


def _in_order(expected: list[str], actual: str) -> bool:
    lines = [line.strip() for line in actual.splitlines()]
    pos = 0
    for want in expected:
        want = want.strip()
        if want == "...":
            continue
        prefix = want.endswith(" ...")  # a line the README shortens
        while pos < len(lines) and not (lines[pos].startswith(want[:-3]) if prefix else lines[pos] == want):
            pos += 1
        if pos == len(lines):
            return False
        pos += 1
    return True


@pytest.mark.parametrize("command, comment, expected", readme_commands(), ids=[c for c, _, _ in readme_commands()])
def test_readme_command(capsys, monkeypatch, tmp_path, command, comment, expected):
    monkeypatch.chdir(tmp_path)  # a plot's --out file lands here
    (tmp_path / "examples").symlink_to(README.parent / "examples")  # `symparams examples/gpt2.arch`
    words = shlex.split(command)
    target = None
    if ">" in words:  # `symparams export ... > module.py`: the module's own run is tests/test_export.py's
        target = tmp_path / words[words.index(">") + 1]
        words = words[: words.index(">")]
    code = main(words)
    out, err = capsys.readouterr()
    if target is not None:
        target.write_text(out)
        assert code == 0 and "def build(" in out, err
        return
    failing = bool(expected) and ERROR.match(expected[0]) is not None
    assert code == (2 if failing else 0), err
    printed = out + err
    assert _in_order(expected, printed), "README says:\n" + "\n".join(expected) + f"\n\nsymparams prints:\n{printed}"
    if comment and not re.search(r"[A-Za-z]{4,}", comment.split(" parameters")[0]):
        formula = comment.split(" parameters")[0]
        assert formula in printed, f"README's comment says {formula}"


def readme_python() -> list[str]:
    return re.findall(r"```python\n(.*?)```", TEXT, re.DOTALL)


def test_the_readme_has_python():
    assert readme_python()


@pytest.mark.parametrize("snippet", readme_python())
def test_readme_python_snippet(snippet, capsys):
    namespace: dict = {}
    tree = ast.parse(snippet)
    for node in tree.body:
        code = compile(ast.Module([node], []), str(README), "exec")
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), str(README), "eval"), namespace)
            line = snippet.splitlines()[node.end_lineno - 1]
            comment = line.partition("#")[2].strip()
            if comment and not re.search(r"[A-Za-z]{4,}", comment):
                assert str(value) == comment, f"{ast.unparse(node)} is {value}, the README says {comment}"
        else:
            exec(code, namespace)  # the README's own code


def readme_inline_calls() -> list[str]:
    calls = re.findall(r"`(net\.(?:sweep|solve|subs)\([^`]*\))`", TEXT)
    calls += re.findall(r"`(symparams\.parse\([^`]*\)\.\w+\([^`]*\))`", TEXT)
    return sorted(set(calls))


def test_the_readme_has_inline_calls():
    assert readme_inline_calls()


@pytest.mark.parametrize("call", readme_inline_calls())
def test_readme_inline_calls_run_on_the_readme_net(call):
    snippet = readme_python()[0]
    namespace: dict = {}
    exec(compile(snippet.split("for layer")[0], str(README), "exec"), namespace)
    ast.parse(call, mode="eval")  # an expression, checked before it runs
    eval(compile(call, str(README), "eval"), namespace)


def test_readme_big_number_is_what_symparams_counts():
    import symparams

    said = re.search(r"`I\(784\)-H\((\d+)\)`\s+counts ([\d,]+) parameters", TEXT)
    assert said
    n, claimed = int(said.group(1)), int(said.group(2).replace(",", ""))
    assert symparams.parse(f"I(784)-H({n})").params == claimed == 785 * n
