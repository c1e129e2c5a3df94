"""`symparams plot` (issue 6): files written and not blank, axes labelled, and the
drawn data equal to the network's own totals."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import symparams
from symparams.base.expr import symbol
from symparams.cli import main
from symparams.plot import PlotError, plot_heatmap, plot_per_layer, plot_total

pytest.importorskip("matplotlib")  # the `test` extra installs it; symparams itself does not need it

ARCH = "I(h,h,3)-C(64,3)-P(2)-C(64,3)-P(2)-H(256)-O(10)"
FREE = "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"


def image_pixels(path):
    import matplotlib.image

    return matplotlib.image.imread(str(path))


def assert_real_image(path, min_bytes=10_000):
    assert path.exists() and path.stat().st_size > min_bytes
    pixels = image_pixels(path)[..., :3]
    # Not blank: many pixels differ from the background, and they vary.
    assert pixels.std() > 0.05
    assert (pixels.mean(axis=-1) < 0.9).mean() > 0.01


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_plot_curve_writes_a_png(tmp_path, capsys):
    out = tmp_path / "params.png"
    assert main(["plot", ARCH, "--vary", "h=16..128", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert_real_image(out)


def test_curve_is_the_exact_total_and_the_ideal_formula():
    net = symparams.parse(ARCH)
    fig = plot_total(net, {"h": range(16, 129)})
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("h", "parameters")
    assert ARCH in ax.get_title()
    lines = lines_by_label(ax)
    exact = next(line for label, line in lines.items() if label.startswith("exact"))
    ideal = next(line for label, line in lines.items() if label.startswith("ideal"))
    xs, ys = exact.get_xdata(), exact.get_ydata()
    for h in (16, 17, 50, 99, 128):
        assert ys[list(xs).index(h)] == int(net.subs(h=h).params)
    # The ideal curve is the closed form with floors dropped, at real x.
    closed = net.with_mode("ideal").params
    for x, y in list(zip(ideal.get_xdata(), ideal.get_ydata()))[::97]:
        assert y == pytest.approx(float(closed.subs(symbol("h"), x)))
    # Exact values are steps: plateaus where the floors do not move.
    assert len(set(ys)) < len(ys)


def test_macs_and_memory_are_drawn_with_their_labels():
    net = symparams.parse(ARCH)
    fig = plot_total(net, {"h": [32, 64, 96]}, target="macs", ideal=False)
    ax = fig.axes[0]
    assert ax.get_ylabel().startswith("MACs")
    line = ax.get_lines()[0]
    assert list(line.get_ydata()) == [int(net.subs(h=h).macs) for h in (32, 64, 96)]
    fig = plot_total(net, {"h": [32, 64]}, target="memory", dtype="bfloat16", ideal=False)
    assert fig.axes[0].get_ylabel() == "parameter memory (bytes, bfloat16)"
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == [2 * int(net.subs(h=h).params) for h in (32, 64)]


def test_points_that_break_a_condition_are_not_drawn():
    net = symparams.parse("I(h,h,1)-C(8,5)-P(2)-C(8,3)-H(10)")  # needs h >= 10
    ys = plot_total(net, {"h": range(4, 20)}, ideal=False).axes[0].get_lines()[0].get_ydata()
    assert np.isnan(ys[:6]).all() and not np.isnan(ys[6:]).any()


def test_two_symbols_make_a_heat_map(tmp_path):
    out = tmp_path / "map.png"
    assert main(["plot", FREE, "--vary", "h=8..64", "--vary", "w=12..80:4", "--subs", "c=3", "--out", str(out)]) == 0
    assert_real_image(out)
    net = symparams.parse(FREE).subs(c=3)
    fig = plot_heatmap(net, {"h": range(8, 65), "w": range(12, 81, 4)})
    ax, bar = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel(), bar.get_ylabel()) == ("h", "w", "parameters")
    grid = ax.collections[0].get_array()  # rows are w, columns h
    assert grid.shape == (len(range(12, 81, 4)), len(range(8, 65)))
    assert grid[0, 20] == int(net.subs(h=28, w=12).params)
    assert grid.mask[:, :4].all() and not grid.mask[:, 4:].any()  # h >= 12


def test_per_layer_bars_are_the_layer_counts(tmp_path):
    out = tmp_path / "layers.png"
    assert main(["plot", FREE, "--per-layer", "--subs", "h=28,w=28,c=1", "--out", str(out)]) == 0
    assert_real_image(out, min_bytes=5_000)
    net = symparams.parse(FREE).subs(h=28, w=28, c=1)
    ax = plot_per_layer(net).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [row.text for row in net.layers]
    assert [int(p.get_height()) for p in ax.patches] == [int(row.params) for row in net.layers]
    assert ax.get_ylabel() == "parameters" and "217,706" in ax.get_title()


def test_per_layer_macs(tmp_path):
    net = symparams.parse("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    ax = plot_per_layer(net, target="macs").axes[0]
    assert ax.get_ylabel().startswith("MACs")
    assert [int(p.get_height()) for p in ax.patches] == [int(row.macs) for row in net.layers]
    assert main(["plot", FREE, "--per-layer", "--what", "memory", "--subs", "h=28,w=28,c=1",
                 "--out", str(tmp_path / "x.png")]) == 2


def test_pdf_and_svg_follow_the_extension(tmp_path):
    for name, magic in (("p.pdf", b"%PDF"), ("p.svg", b"<?xml")):
        assert main(["plot", ARCH, "--vary", "h=16,32,64", "--out", str(tmp_path / name)]) == 0
        assert (tmp_path / name).read_bytes().startswith(magic)


@pytest.mark.parametrize("argv, message", [
    ([FREE, "--vary", "h=16..64"], "depend on c, w"),
    ([FREE, "--per-layer", "--subs", "c=3"], "depend on h, w"),
    ([ARCH, "--per-layer", "--vary", "h=16..64"], "--per-layer"),
    ([ARCH], "one --vary"),
    ([ARCH, "--vary", "h=1..8"], "no value of h"),
    ([ARCH, "--vary", "h=64..16"], "empty"),
])
def test_bad_requests_exit_2_with_a_reason(argv, message, tmp_path, capsys):
    assert main(["plot", *argv, "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_missing_matplotlib_is_a_clear_error(monkeypatch, tmp_path, capsys):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(PlotError, match=r"pip install 'symparams\[plot\]'"):
        plot_total(symparams.parse(ARCH), {"h": [32]})
    assert main(["plot", ARCH, "--vary", "h=32", "--out", str(tmp_path / "x.png")]) == 2
    assert "symparams[plot]" in capsys.readouterr().err
