"""Issue 13, a newcomer's first hour: no silent wrong answer, no misleading message.

Each test failed before its fix (see the issue's bullets); the guards (`p=k` stays a
symbol, a channels-last input gets no note) keep the fixes from overreaching."""

from __future__ import annotations

import re

import pytest

import symparams
from symparams.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------ keywords misspelt or cased otherwise
@pytest.mark.parametrize(
    "text, meant",
    [
        ("I(28,28,3)-C(32,3,p=SAME)", "p=same"),  # TF1's spelling
        ("I(28,28,3)-C(32,3,p=Same)", "p=same"),
        ("I(28,28,3)-C(32,3,p=VALID)", "p=valid"),
        ("I(28,28,3)-C(32,3,p=vaild)", "p=valid"),
        ("I(28,28,3)-C(32,3,p=sam)", "p=same"),
        ("I(28,28,3)-P(2,p=smae)", "p=same"),
        ("I(28,28,3)-C(32,3,bias=True)", "bias=true"),
        ("I(28,28,3)-C(32,3,bias=ture)", "bias=true"),
        ("I(8,16)-TB(2,32,norm=RMS)", "norm=rms"),
        ("conv(q) = C(8,3,p=q)\nI(8,8,3)-conv(Same)", "p=same"),  # through a definition's parameter
    ],
)
def test_misspelt_keyword_is_an_argument_error_with_did_you_mean(capsys, text, meant):
    code, out, err = run(capsys, text)
    assert (code, out) == (2, "")
    assert err.startswith("Invalid argument") and f"did you mean {meant}?" in err and "^" in err


def test_full_padding_is_refused_with_its_explicit_form(capsys):
    code, out, err = run(capsys, "I(28,28,3)-C(32,3,p=full)")
    assert code == 2 and "full padding is d*(f - 1) on each side: write p=2" in err
    code, out, err = run(capsys, "I(28,28,3)-C(32,(3,5),d=2,p=full)")
    assert code == 2 and "write p=(4,8)" in err
    # ... and what it proposes is full padding: the output grows by d*(f - 1)
    assert symparams.parse("I(28,28,3)-C(32,(3,5),d=2,p=(4,8))").output_shape == (32, 32, 36)


@pytest.mark.parametrize(
    "text", ["I(28,28,3)-C(32,3,p=k)", "I(28,28,3)-C(32,3,p=pad)", "I-C(32,3,p=q)", "I(28,28,3)-C(32,3,p=1*SAME)"]
)
def test_a_name_that_is_no_keyword_stays_a_symbol(text):
    net = symparams.parse(text)
    assert net.params == 896 or net.params.free_symbols
    assert any(sym.name in ("k", "pad", "q", "SAME") for sym in net.free_symbols)


def test_a_misspelt_keyword_given_a_value_is_a_symbol_on_purpose():
    assert symparams.parse("I(28,28,3)-C(32,3,p=Same)", values={"Same": 1}).output_shape == (32, 28, 28)


# ------------------------------------------------------------ framework keyword names
@pytest.mark.parametrize(
    "framework, ours",
    [
        ("I(28,28,1)-C(32,3,stride=2)", "I(28,28,1)-C(32,3,s=2)"),
        ("I(28,28,1)-C(32,3,strides=2)", "I(28,28,1)-C(32,3,s=2)"),
        ("I(28,28,1)-C(32,3,padding=same)", "I(28,28,1)-C(32,3,p=same)"),
        ("I(28,28,1)-C(32,3,dilation=2)", "I(28,28,1)-C(32,3,d=2)"),
        ("I(28,28,4)-C(32,3,groups=2)", "I(28,28,4)-C(32,3,g=2)"),
        ("I(28,28,1)-C(filters=32,kernel_size=3)", "I(28,28,1)-C(n=32,f=3)"),
        ("I(28,28,1)-P(pool_size=2)", "I(28,28,1)-P(f=2)"),
        ("I(784)-H(units=10)", "I(784)-H(n=10)"),
        ("I(784)-H(10,use_bias=false)", "I(784)-H(10,bias=false)"),
        ("I(10,8)-L(16,return_sequences=true)", "I(10,8)-L(16,seq=true)"),
        ("I(10,8)-L(16,bidirectional=true)", "I(10,8)-L(16,bi=true)"),
        ("I(10)-E(num_embeddings=100,embedding_dim=8)", "I(10)-E(100,8)"),
    ],
)
def test_framework_keyword_names_are_aliases(framework, ours):
    a, b = symparams.parse(framework), symparams.parse(ours)
    assert (a.params, a.output_shape) == (b.params, b.output_shape)
    assert a.params != symparams.parse(ours.split("-")[0] + "-" + "H(1)").params  # not vacuous


def test_an_alias_that_means_something_else_in_that_layer_is_refused():
    with pytest.raises(symparams.ArgumentError, match="E has no argument 'dilation'"):
        symparams.parse("I(8)-E(10,4,dilation=2)")  # E's d is a width, not a dilation


def test_an_alias_and_its_short_name_together_are_given_twice():
    with pytest.raises(symparams.ArgumentError, match=r"'s' of C is given twice \(as stride\)"):
        symparams.parse("I(28,28,1)-C(32,3,s=2,stride=2)")


def test_a_misspelt_argument_name_gets_a_suggestion(capsys):
    code, out, err = run(capsys, "I(28,28,1)-C(32,3,strde=2)")
    assert code == 2 and "Did you mean: s?" in err


def test_argument_error_is_not_labelled_a_shape_error(capsys):
    for text in ("I(28,28,1)-C(32,3,bogus=2)", "I(28,28,1)-C(32,3,s=0)", "I(28,28,1)-C(32,2.0)"):
        code, out, err = run(capsys, text)
        assert code == 2
        assert err.startswith("Invalid argument") and "Invalid shape" not in err
    with pytest.raises(symparams.ShapeError):  # still a ShapeError for `except ShapeError`
        symparams.parse("I(28,28,1)-C(32,3,bogus=2)")


# ------------------------------------------------------------ channels-first inputs
def test_channels_first_input_gets_a_note_on_stderr(capsys):
    code, out, err = run(capsys, "I(3,224,224)-C(64,3)-GAP-O(10)")
    assert code == 0 and "Total params: 129,738" in out  # the count of what was written...
    assert err == (
        "Note: I(3,224,224) is read channels-last (h=3, w=224, c=224): "
        "for a 3-channel 224×224 image write I(224,224,3).\n"
    )
    code, out, err = run(capsys, "I(224,224,3)-C(64,3)-GAP-O(10)")  # ... and of what was meant
    assert code == 0 and "Total params: 2,442" in out


@pytest.mark.parametrize("text", ["I(224,224,3)-C(64,3)-GAP-O(10)", "I(3,5,5)-C(2,3)", "I(3,224)-H(4)", "I-C(8,3)"])
def test_channels_last_input_gets_no_note(capsys, text):
    code, out, err = run(capsys, text)
    assert (code, err) == (0, "")


def test_first_layer_shape_error_hints_channels_last(capsys):
    code, out, err = run(capsys, "I(3,28,28)-C(20,5)")
    assert code == 2
    assert "at least 5 on axis h, got 3" in err and "channels-last" in err and "write I(28,28,3)" in err
    code, out, err = run(capsys, "I(28,28,3)-C(20,5)-C(8,30)")  # not the first layer: no hint
    assert code == 2 and "channels-last" not in err


def test_help_says_shapes_are_channels_last_and_lists_the_subcommands(capsys):
    code, out, err = run(capsys, "--help")
    assert code == 0
    assert "channels-last" in out and "I(224,224,3)" in out
    assert all(f"symparams {word} ARCH" in out for word in ("solve", "sweep", "plot"))


# ------------------------------------------------------------ CLI basics
def test_version(capsys):
    code, out, err = run(capsys, "--version")
    assert code == 0 and out == f"symparams {symparams.__version__}\n"


@pytest.mark.parametrize("depth", ["-1", "0", "x"])
def test_depth_below_one_is_refused(capsys, depth):
    code, out, err = run(capsys, "I-[C(8,1)+id]", "--depth", depth)
    assert (code, out) == (2, "") and f"--depth: must be a whole number >= 1, got {depth}" in err


_INTERRUPT_AT_IMPORT = """
import sys
from importlib.metadata import entry_points

AT = sys.argv[1]


class Interrupt:  # Ctrl-C arriving while the command is still importing its modules
    def find_spec(self, name, path=None, target=None):
        if name == AT:
            raise KeyboardInterrupt
        return None


sys.meta_path.insert(0, Interrupt())
(script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "symparams"]
sys.argv[1:] = ["I(784)-O(10)"]
sys.exit(script.load()())  # what pip's generated `symparams` script does
"""


@pytest.mark.parametrize("module", ["symparams.base.errors", "argparse", "symparams.base.limits", "fractions"])
def test_ctrl_c_at_start_up_never_prints_a_traceback(module):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _INTERRUPT_AT_IMPORT, module], capture_output=True, timeout=120)
    err = done.stderr.decode()
    assert "Traceback" not in err, err[-800:]
    assert (done.returncode, err) == (130, "interrupted\n")


# ------------------------------------------------------------ conditions as people write them
def test_equality_condition_reads_as_an_equation_in_every_report(capsys):
    import json

    for fmt in ([], ["--markdown"]):
        code, out, err = run(capsys, "I-[C(k,1)+id]", *fmt)
        assert code == 0 and "Eq(" not in out and "k = c" in out
    code, out, err = run(capsys, "I-[C(k,1)+id]", "--json")
    data = json.loads(out)
    assert data["conditions"] == ["k = c"]
    assert data["conditions_sympy"] == ["Eq(k, c)"]  # for programs: sympy reads it back
    net = symparams.parse("I-[C(k,1)+id]")
    assert "k = c" in net._repr_html_() and "Eq(" not in net._repr_html_()


def test_always_true_branch_condition_is_dropped():
    # Keras: a strided valid 1x1 and a strided same 3x3 give floor(h/2 - 1/2) + 1 and
    # floor(h/2 + 1/2), equal for every h.
    net = symparams.parse("I(h,w,8)-[C(8,1,s=2) + C(8,3,s=2,p=same)]", convention="keras")
    assert net.conditions == ()
    for h in range(1, 12):
        assert net.subs(h=h, w=5).output_shape == symparams.parse(
            f"I({h},5,8)-[C(8,1,s=2) + C(8,3,s=2,p=same)]", convention="keras"
        ).output_shape


def test_ideal_conditions_never_print_true(capsys):
    code, out, err = run(
        capsys, "I(h,w,8)-[C(8,1,s=2) + C(8,3,s=2,p=same)]", "--convention", "keras", "--ideal"
    )
    assert code == 0
    (conditions,) = [line for line in out.splitlines() if line.startswith("Conditions:")]
    assert conditions == "Conditions: h ≡ 1 (mod 2), w ≡ 1 (mod 2)"
    net = symparams.parse("I(h,h,8)-[C(8,1,s=2) + C(8,3,s=2,p=same)]", convention="torch", mode="ideal")
    assert all(c is not True and str(c) != "True" for c in net.conditions)


# ------------------------------------------------------------ messages
@pytest.mark.parametrize(
    "text, first",
    [
        ("I(28,28,1)-c(32,3)", "C"),
        ("I(28,28,1)-C(32,3)-ReLU", "relu"),
        ("I(28,28,1)-C(32,3)-Relu", "relu"),
        ("I(28,28,1)-C(32,3)-LeakyReLU", "leakyrelu"),
        ("I(28,28,1)-C(32,3)-HardSwish", "hswish"),
        ("I(28,28,1)-Linear(10)", "H"),
        ("I(28,28,1)-Conv2d(8,3)", "Conv"),
        ("I(28,28,1)-MaxPooling2D(2)", "P"),
    ],
)
def test_case_insensitive_and_framework_suggestions(capsys, text, first):
    code, out, err = run(capsys, text)
    assert code == 2
    said = re.search(r"Did you mean: (.*)\?", err)
    assert said and said.group(1).split(", ")[0] == first


def test_an_activation_suggestion_says_why_it_counts_the_same(capsys):
    code, out, err = run(capsys, "I(28,28,1)-C(32,3)-SELU")
    assert code == 2 and "Activations have no parameters" in err
    # PReLU is a layer of its own (it has a weight: torch's default one): no such note.
    code, out, err = run(capsys, "I(28,28,1)-C(32,3)-PReLU")
    assert code == 0 and "Total params: 321" in out


def test_subs_that_breaks_a_condition_names_it(capsys):
    code, out, err = run(capsys, "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "--subs", "h=8,w=28,c=1")
    assert code == 2
    assert "The values h=8, w=28, c=1 break the network's condition h >= 12." in err
    with pytest.raises(symparams.ShapeError, match="The values n=8 break the network's condition n >= 12"):
        symparams.parse("I(n,n,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)").subs(n=8)


@pytest.mark.parametrize("convention, shape", [("torch", "[3, 28, 28]"), ("keras", "(28, 28, 3)")])
def test_recurrent_layer_on_an_image_prints_convention_order_and_suggests_seq(capsys, convention, shape):
    code, out, err = run(capsys, "I(28,28,3)-L(64)", "--convention", convention)
    assert code == 2
    assert f"got a tensor of shape {shape}" in err
    assert "SEQ before this layer: 784 positions of 3 features" in err
    assert symparams.parse("I(28,28,3)-SEQ-L(64)").output_shape == (64,)  # what it proposes builds


# ------------------------------------------------------------ LaTeX
LENET = "I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"


def test_latex_caption_and_label(capsys):
    code, out, err = run(capsys, LENET, "--latex", "--caption", "LeNet & co", "--label", "tab:lenet")
    assert code == 0 and "\\caption{LeNet \\& co}\n\\label{tab:lenet}\n\\begin{tabular}" in out
    deep = "I(28,28,1)-" + "-".join(["C(8,1)"] * 45) + "-GAP-O(10)"
    code, out, err = run(capsys, deep, "--latex", "--caption", "Deep", "--label", "tab:deep")
    assert code == 0 and "\\caption{Deep} \\label{tab:deep} \\\\\n\\toprule" in out and "\\endfirsthead" in out
    code, out, err = run(capsys, LENET, "--caption", "LeNet")
    assert code == 2 and "--caption goes with --latex" in err
    code, out, err = run(capsys, LENET, "--latex", "--label", "a b")
    assert code == 2 and "--label" in err


def test_latex_symbolic_table_has_no_value_column_and_a_numeric_one_has(capsys):
    code, out, err = run(capsys, LENET, "--latex")
    assert code == 0 and "Value" not in out and "&  \\\\" not in out
    code, out, err = run(capsys, "I(28,28,1)-C(32,5)-P(2)-H(10)", "--latex")
    assert code == 0 and "& Value \\\\" in out and "& $832$ \\\\" in out


def test_latex_ideal_sentence_is_its_own_paragraph(capsys):
    code, out, err = run(capsys, LENET, "--latex", "--ideal")
    lines = out.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("Ideal mode"))
    assert lines[i - 1] == "" and lines[i - 2].startswith("Conditions:")


def test_longtable_widths_are_fixed(capsys):
    # Natural-width columns (l, r) make longtable ask for a second pdflatex run.
    code, out, err = run(capsys, "I(28,28,1)-" + "-".join(["C(8,1)"] * 45) + "-GAP-O(10)", "--latex")
    spec = re.search(r"\\begin\{longtable\}\{(.*)\}", out).group(1)
    assert re.sub(r"\{[^{}]*\}", "", spec.replace(r"\arraybackslash", "")).strip("@") == ">p>p>p>p"
    assert "\\setlength\\LTchunksize{1000}" in out


def test_text_floors_read_like_latex(capsys):
    code, out, err = run(capsys, "I(h,h,3)-C(64,3,s=8)-C(8,7,s=2)")
    assert "[8, floor((h - 51)/16) + 1, floor((h - 51)/16) + 1]" in out and "51/16" not in out
    code, out, err = run(capsys, "I(h,h,3)-C(64,3,s=8)-C(8,7,s=2)", "--markdown")
    assert "floor((h - 51)/16) + 1" in out and "51/16" not in out


def test_standalone_header_names_the_file(capsys, tmp_path):
    path = tmp_path / "net.arch"
    path.write_text("# a comment\nblock(k) = C(k,3)-relu\nI(28,28,1)-block(8)-block(16)-GAP-O(10)\n")
    code, out, err = run(capsys, str(path), "--latex", "--standalone")
    assert code == 0
    header = out.split(r"\begin{table}")[0]
    assert r"\texttt{net.arch}" in header and "block(k)" not in header and "comment" not in header
    assert r"block(16)" in header  # the network line itself


def test_longtable_is_right_after_one_pdflatex_run(capsys, tmp_path):
    import shutil
    import subprocess

    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex is not installed")
    # Values that grow down the table: with a natural-width Value column, longtable
    # measured each chunk of 20 rows anew and asked for a second run.
    arch = "I(8)-" + "-".join(f"H({10 ** (i // 8)})" for i in range(45))
    code, out, err = run(capsys, arch, "--latex", "--standalone")
    assert code == 0 and "longtable" in out
    (tmp_path / "t.tex").write_text(out)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "t.tex"], cwd=tmp_path, capture_output=True, timeout=180)
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert (tmp_path / "t.pdf").exists()
    assert "Rerun" not in log and "widths have changed" not in log
