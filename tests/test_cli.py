"""The command line through `main([...])`: table, JSON, substitution, conventions, files, stdin, errors."""

from __future__ import annotations

import io
import json
import sys

import pytest
import sympy

import symparams
from symparams.base.expr import symbol
from symparams.cli import main

LENET = "I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"
SYMBOLIC_LENET = "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"
JSON_KEYS = {"params", "trainable", "non_trainable", "output_shape", "conditions", "layers"}
LAYER_KEYS = {"layer", "kind", "output_shape", "params"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def read_back(value, names=("h", "w", "c", "k")) -> sympy.Expr:
    """A JSON value as sympy reads it back, with the symbols symparams uses (positive integers).
    Only our own output is read this way, never user text."""
    if isinstance(value, int):
        return sympy.Integer(value)
    assert isinstance(value, str)
    return sympy.sympify(value, locals={n: symbol(n) for n in names})


def test_table_of_the_lenet(capsys):
    code, out, err = run(capsys, LENET)
    assert (code, err) == (0, "")
    assert "Total params: 217,706" in out
    for row in ["C(32,5)", "P(2)", "H(256)", "O(10)", "Conv2D", "MaxPool2D", "Dense", "[32, 24, 24]", "205,056"]:
        assert row in out
    assert "Trainable params: 217,706" in out and "Non-trainable params: 0" in out


def test_symbolic_table_has_formula_and_conditions(capsys):
    code, out, _ = run(capsys, SYMBOLIC_LENET)
    assert code == 0
    assert "Total params: 800*c + 8192*(floor(h/4) - 2)*(floor(w/4) - 2) + 12106" in out
    assert "Conditions: h >= 12, w >= 12" in out


def test_subs_gives_the_numbers(capsys):
    code, out, _ = run(capsys, SYMBOLIC_LENET, "--subs", "h=28,w=28,c=1")
    assert code == 0
    assert "Total params: 217,706" in out
    code, out, _ = run(capsys, SYMBOLIC_LENET, "--subs", "h=28", "--subs", "w=28,c=1", "--json")
    assert json.loads(out)["params"] == 217_706


def test_json_numeric_values_are_ints(capsys):
    code, out, err = run(capsys, LENET, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert JSON_KEYS <= set(data)
    assert (data["params"], data["trainable"], data["non_trainable"]) == (217_706, 217_706, 0)
    assert data["output_shape"] == [10]
    assert data["conditions"] == []
    assert [row["layer"] for row in data["layers"]] == LENET.split("-")
    for row in data["layers"]:
        assert LAYER_KEYS <= set(row)
        assert isinstance(row["params"], int) and all(isinstance(x, int) for x in row["output_shape"])
    assert data["layers"][1]["output_shape"] == [32, 24, 24]
    assert sum(row["params"] for row in data["layers"]) == data["params"]


def test_json_symbolic_values_are_strings_sympy_reads_back(capsys):
    _, out, _ = run(capsys, SYMBOLIC_LENET, "--json")
    data = json.loads(out)
    net = symparams.parse(SYMBOLIC_LENET)
    assert isinstance(data["params"], str)
    assert sympy.simplify(read_back(data["params"]) - net.params) == 0
    assert data["non_trainable"] == 0
    assert data["conditions"] == ["h >= 12", "w >= 12"]
    row = data["layers"][2]
    assert row["kind"] == "MaxPool2D"
    assert [read_back(x) for x in row["output_shape"]] == list(net.layers[2].output_shape)
    assert sympy.expand(read_back(data["layers"][5]["params"]) - net.layers[5].params) == 0


def test_convention_keras_counts_and_orders_as_keras(capsys):
    text = "I(64,64,1)-C(32,3,p=same)-BN-F-H(100)-O(10)"
    code, out, _ = run(capsys, text, "--convention", "keras", "--json")
    data = json.loads(out)
    assert (data["params"], data["trainable"], data["non_trainable"]) == (13_108_758, 13_108_694, 64)
    assert data["layers"][1]["output_shape"] == [64, 64, 32]  # channels last
    code, out, _ = run(capsys, text, "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["params"], data["non_trainable"]) == (13_108_694, 0)
    assert data["layers"][1]["output_shape"] == [32, 64, 64]  # channels first
    _, out, _ = run(capsys, text, "--convention", "keras")
    assert "Non-trainable params: 64" in out and "(64, 64, 32)" in out


def test_arch_file(capsys, tmp_path):
    path = tmp_path / "lenet.arch"
    path.write_text("# the Lasagne MNIST net\nI(28,28,1)-C(32,5)-P(2)\n  -C(32,3)-P(2)-H(256)-O(10)\n")
    code, out, _ = run(capsys, str(path), "--json")
    assert code == 0 and json.loads(out)["params"] == 217_706


def test_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"I(784)-O(10)\n")))
    code, out, _ = run(capsys, "-", "--json")
    assert code == 0 and json.loads(out)["params"] == 7_850


@pytest.mark.parametrize("argv, words", [
    (["I(28,28,1)-C(32,5-P(2)"], ["column 18", "^", "Expected one of"]),
    (["I(4,4,1)-C(32,5)"], ["C(32,5) needs an input of at least 5 on axis h, got 4", "^^^^^^^"]),
    (["I(28,28,1)-Q(3)"], ["unknown layer 'Q'"]),
    ([SYMBOLIC_LENET, "--subs", "h=8,w=28,c=1"], ["on axis h"]),
    ([SYMBOLIC_LENET, "--subs", "h=zero"], ["--subs"]),
    (["I(784)-O(10)", "--convention", "jax"], ["convention"]),
    (["/nonexistent/dir/net.arch"], ["cannot read"]),
    (["I(28,28,1)-C(32,3,p=(same,1))"], ["tuple holding the keyword 'same'"]),
    ([], ["arch"]),
])
def test_bad_input_exits_2_without_traceback(capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    for word in words:
        assert word in err


def test_empty_stdin_is_an_error(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"  \n")))
    code, _, err = run(capsys, "-")
    assert code == 2 and "empty" in err and "Traceback" not in err


# The README's commands are run and compared with its text in tests/test_readme.py.
