"""--markdown (issue 6): a GitHub-flavoured table, parsed back cell by cell."""

from __future__ import annotations

import re

import pytest

import symparams
from symparams.cli import main
from symparams.layers.shapes import shape_text
from symparams.render import markdown

NETWORKS = [
    ("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "torch"),
    ("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "keras"),
    ("I(64,64,1)-C(32,3,p=same)-BN-F-H(100)-O(10)", "keras"),
    # '|' in a branch must not split a cell.
    ("I(32,32,3)-[C(16,1) | C(16,3,p=1) | (C(8,1)-C(8,5,p=2))]-[C(40,3,p=1) + id]-GAP-O(10)", "torch"),
]

DELIMITER = re.compile(r"^\|(\s*:?-{3,}:?\s*\|)+$")


def split_row(line: str) -> list[str]:
    """The cells of a GFM table row: split on '|' not escaped by a backslash."""
    assert line.startswith("|") and line.endswith("|"), line
    cells = re.split(r"(?<!\\)\|", line[1:-1])
    return [cell.strip().replace("\\|", "|") for cell in cells]


def parse_table(text: str) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """GFM: a header row, a delimiter row, body rows with as many cells; then the rest."""
    lines = text.splitlines()
    header = split_row(lines[0])
    assert DELIMITER.match(lines[1]) and len(split_row(lines[1])) == len(header)
    body = []
    i = 2
    while i < len(lines) and lines[i].startswith("|"):
        cells = split_row(lines[i])
        assert len(cells) == len(header), lines[i]
        body.append(dict(zip(header, cells)))
        i += 1
    return header, body, lines[i:]


def unwrap(cell: str) -> str:
    """A cell's text without indentation entities and code-span backticks."""
    cell = cell.replace("&emsp;", "")
    return cell[1:-1] if cell.startswith("`") and cell.endswith("`") else cell


def count_cell(expr) -> str:
    return f"{int(expr):,}" if expr.is_Integer else str(expr)


@pytest.mark.parametrize("text, convention", NETWORKS)
def test_markdown_table_parses_back_to_the_network(text, convention, capsys):
    assert main([text, "--markdown", "--convention", convention]) == 0
    out = capsys.readouterr().out
    net = symparams.parse(text, convention=convention)
    header, body, rest = parse_table(out)
    assert header[:5] == ["#", "Layer", "Kind", "Output shape", "Params"]
    rows = list(net.walk())
    assert len(body) == len(rows)
    for cells, row in zip(body, rows):
        assert cells["#"] == row.index
        assert unwrap(cells["Layer"]) == row.text
        assert cells["Layer"].count("&emsp;") == row.depth
        assert cells["Kind"] == row.kind
        assert unwrap(cells["Output shape"]) == shape_text(row.shape, convention)
        assert unwrap(cells["Params"]) == count_cell(row.params)
        if "Non-trainable" in header:
            assert unwrap(cells["Non-trainable"]) == count_cell(row.non_trainable)
    summary = "\n".join(rest)
    total = count_cell(net.params) if net.params.is_Integer else f"`{net.params}`"
    assert f"- **Total params:** {total}" in summary
    for cond in net.conditions:
        assert f"`{cond}`" in summary


def test_non_trainable_column_only_when_something_is_frozen():
    keras = markdown(symparams.parse("I(64,64,32)-BN", convention="keras"))
    torch = markdown(symparams.parse("I(64,64,32)-BN", convention="torch"))
    assert "Non-trainable" in keras.splitlines()[0] and "- **Non-trainable params:** 64" in keras
    assert "Non-trainable" not in torch


def test_top_rows_sum_to_the_total_in_the_table():
    text = "I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"
    _, body, rest = parse_table(markdown(symparams.parse(text)))
    total = sum(int(cells["Params"].replace(",", "")) for cells in body)
    assert f"- **Total params:** {total:,}" in rest


def test_depth_folds_blocks_as_the_text_table_does():
    from symparams.render import visible_rows

    net = symparams.parse("I(8)-(H(8)-relu)*2-[H(4) | H(4)]-O(1)")
    for depth in (1, 2, None):
        _, body, _ = parse_table(markdown(net, depth=depth))
        assert [unwrap(c["Layer"]) for c in body] == [r.text for r in visible_rows(net, depth)]
    assert len(parse_table(markdown(net, depth=1))[1]) == 4
