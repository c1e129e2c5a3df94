"""`symparams export` and `symparams check` (README, "Export to PyTorch and Keras").

Every architecture here is exported to both frameworks, the module is imported and
built (torch on the meta device), a forward pass runs, and the framework's counts and
shapes must equal symparams' row by row and in total: the examples, the per-layer table
of frameworks.py, the sequence layers, and the random chains and nestings the
hypothesis tests generate (their generators, reused).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from frameworks import LAYER_CASES, case_id, chain_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symparams
from symparams.cli import main
from symparams.export import ExportError, class_name, to_keras, to_torch
from symparams.export.check import check, check_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.arch"))
EXPECTED = ROOT / "tests" / "expected"
# Values of the examples' symbols: a sequence length, and gpt.arch's sizes.
VALUES = {"t": 16, "V": 1000, "d": 64, "m": 32, "h": 4, "L": 2, "s": 16}
# The examples with a layer or form no exporter writes yet: the export refuses them with
# ExportError (never silently). Strict, so an exporter added flags its line here.
NOT_EXPORTED: dict[str, str] = {}
# Exported to PyTorch only, so far.
NOT_EXPORTED_KERAS: dict[str, str] = {}
EXPORTABLE = [p for p in EXAMPLES if p.stem not in NOT_EXPORTED]
# Slow to build in Keras (its layers are real objects even under the meta device:
# DeepSeek-V3's 61 blocks of 256 experts take about 12 minutes): with -m zoo.
KERAS_ZOO = {"deepseek_v3"}
# DeepSeek-V3 on the meta device: 20 s to build and a minute to run its 58 x 256 experts'
# forward, idle. A small model of its form (MLA, shared and routed experts) stays in CI
# (tests/test_export_graphs.py).
TORCH_ZOO = {"deepseek_v3"}


def example_param(path: Path, framework: str):
    if path.stem in NOT_EXPORTED or (framework == "keras" and path.stem in NOT_EXPORTED_KERAS):
        reason = NOT_EXPORTED.get(path.stem) or NOT_EXPORTED_KERAS[path.stem]
        mark = pytest.mark.xfail(strict=True, raises=ExportError, reason=reason)
        return pytest.param(path, framework, id=f"{path.stem}-{framework}", marks=mark)
    if path.stem in (KERAS_ZOO if framework == "keras" else TORCH_ZOO):
        return pytest.param(path, framework, id=f"{path.stem}-{framework}", marks=pytest.mark.zoo)
    return pytest.param(path, framework, id=f"{path.stem}-{framework}")


def example(path: Path, convention: str):
    return symparams.parse(path.read_text(), convention=convention, values=VALUES)


def assert_agrees(net, framework: str) -> None:
    result = check(net, framework)
    assert result.agrees, f"{net.text}\n{check_text(result)}"
    assert result.framework_params == net.params
    # One row checked for every row but the inputs and a graph's lines' reads of a tensor.
    assert len(result.rows) == len([r for r in net.layers if r.kind not in ("Input", "Tensor")])


def assert_agrees_where_valid(text: str) -> None:
    """The export agrees in each convention that accepts `text`."""
    for convention in ("torch", "keras"):
        try:
            net = symparams.parse(text, convention=convention)
        except symparams.ShapeError:  # a layer valid in one convention only (T's default padding)
            continue
        assert_agrees(net, convention)


# ---------------------------------------------------------------- every example, both frameworks
@pytest.mark.frameworks
@pytest.mark.parametrize(
    "path,framework", [example_param(p, f) for p in EXAMPLES for f in ("torch", "keras")]
)
def test_every_example_builds_and_agrees(path, framework):
    assert_agrees(example(path, framework), framework)


@pytest.mark.parametrize("stem", sorted(NOT_EXPORTED))
def test_examples_not_exported_yet_are_refused_by_name(stem):
    """An example no exporter writes yet is refused with a message naming the layer or form."""
    for framework, to in (("torch", to_torch), ("keras", to_keras)):
        with pytest.raises(ExportError, match="no (PyTorch |Keras )?exporter"):
            to(example(ROOT / "examples" / f"{stem}.arch", framework))


# ---------------------------------------------------------------- every layer and option
@pytest.mark.frameworks
@pytest.mark.parametrize("convention", ["torch", "keras"])
@pytest.mark.parametrize("case", LAYER_CASES, ids=[case_id(c) for c in LAYER_CASES])
def test_every_layer_case_exports_to_both_frameworks(case, convention):
    """Also the options one framework lacks (torch's 'same' with a stride, Keras's ceil mode
    and integer padding, transposed convs with groups, strides and dilation): the export
    writes the equivalent, and the counts and shapes still agree."""
    shape, specs, _ = case
    assert_agrees(symparams.parse(chain_text(shape, specs), convention=convention), convention)


SEQUENCE_CASES = [
    "I(12)-E(50,8)",
    "I(12)-E(50,8)-PE(16)",
    "I(12,8)-CLS-FIRST-H(3)",
    "I(6,6,4)-SEQ-CLS-PE(40)-LN",
    "I(5,4,3,2)-SEQ-H(4)",
    "I(10,6)-R(5)",
    "I(10,6)-R(5,seq=true)",
    "I(10,6)-R(5,bi=true)",
    "I(10,6)-R(5,bias=false,seq=true,bi=true)",
    "I(10,6)-L(5)",
    "I(10,6)-L(5,seq=true,bi=true)",
    "I(10,6)-L(5,bias=false)",
    "I(10,6)-G(5)",
    "I(10,6)-G(5,seq=true,bi=true)",
    "I(10,6)-G(5,reset_after=false)",
    "I(10,6)-G(5,bias=false,bi=true)",
    "I(10,16)-MHA(4)",
    "I(10,16)-MHA(4,bias=false)",
    "I(10,16)-MHA(4,k=8)",
    "I(10,16)-MHA(4,kv=2)",
    "I(10,16)-MHA(4,k=3,kv=1,bias=false)",
    "I(10,16)-SwiGLU(24)",
    "I(10,16)-SwiGLU(24,bias=false)",
    "I(10,16)-TB(4,32)",
    "I(10,16)-TB(4,32,norm=rms)",
    "I(10,16)-TB(4,32,mlp=swiglu,bias=false,kv=2)",
    "I(10,16)-TB(2,32,mlp=relu)*3",
    "I(10)-E(30,16)-TB(4,32)*2-LN-O(30,tied=true)",
    "I(10)-E(30,16)-O(30,bias=false,tied=true)",
    "I(10,6)-BN-H(4)",
    "I(10,6)-C(4,3)-P(2)-GAP",
    "I(10,6)-softmax",
    "I(4,4,3)-softmax",
    "I(4,4,3)-LN-RMS",
    "I(10,6)-Z(2)-AAP(3)-F",
    "I(10)-E(20,6)-[H(4) | H(2)]-[relu + id]",
    "I(8,8,3)-2[C(4,3)]-[C(2,1) + C(2,1)]",
    "I(8,8,3)-1[C(4,3)-relu]",
    "I(8,8,3)-(C(3,1)-relu)*3",
    "I(8,8,3)-(C(4,3)-relu)*3",
    "I(8,8,3)-C(4,1)-(C(4,3,p=1)*2)*2",
    "b = C(4,3,p=1)-BN\nI(8,8,3)-b-b*2-[b | b]",
    "f(k) = C(k,3)\nI(9,9,2)-f(3)-f(4)*2",
    "class(k) = C(k,1)\nsum = relu\nI(9,9,2)-class(3)-sum",
    "I(8,8,3)-[id]",
    "I(8,8,3)-id",
    "I(12,6)-D(0.5)-F-O(3)",
    "I(10,16)-GeGLU(24)-H(16)",
    "I(10,16)-GeGLU(24,bias=false)",
    "I(10,16)-TB(4,32,mlp=geglu,bias=false)",
    "I(10,16)-H(1)-SQ",
    "I(8,8,6)-[CH(0,2) | CH(2,6)-C(4,1)]-SHUF(3)",
    "I(8,8,6)-CHUNK(3,1)-C(2,1)",
    "I(10,6)-CH(1,4)-SHUF(3)-CHUNK(3,2)",
    "I(8,8,3)-S2D(2)-C(4,1)-D2S(2)",
    "I(7,9,3)-S2D(2,pad=true)",
    "I(4,4,3)-UP(2)-UP((2,3))-RS((5,7))",
    "I(6,3)-UP(2)",
    "I(13,11,3)-Z(pad=(1,2,3,4))-C(2,3)",
    "I(10,16)-RT(12)-RT(8,norm=ln)-RT(4,norm=rms)-RB(32,4)-H(4)",
    "I(8,8,6)-WMSA(2,win=4)-PM",
    "I(9,7,6)-WMSA(3,win=4,shift=2)-PM(v2=true)",
    "I(8,8,4)-WMSA(2,win=(4,2),shift=(1,1),pos=cpb,bias=false)-WMSA(2,win=4,pos=none)",
    "I(10,16)-MHA(4,bias=qkv)",
    "I(10,16)-MHA(4,kv=2,bias=qvo)",
    "I(10,16)-MHA(4,k=8,kv=2,bias=false,qknorm=head)",
    "I(10,16)-MHA(4,qknorm=full)",
    "I(10,16)-MHA(4,k=6,kv=1,qknorm=head,qknorm_kind=ln)",
    "I(10,16)-MHA(4,qknorm=full,qknorm_kind=ln,qknorm_bias=false)",
    "I(10,16)-TB(4,32,k=8,kv=2,norm=rms,mlp=swiglu,bias=false,qknorm=head)",
    "I(10,16)-TB(4,32,qknorm=full,norm_bias=false)",
    "I(10,16)-TB(4,32,attn_bias=qkv,bias=false)",
    "I(10,16)-TB(4,32,place=post)",
    "I(10,16)-TB(4,32,place=sandwich,norm=rms)",
    "I(10,16)-TB(4,32,place=out,norm=rms)",
    "I(10,16)-TB(4,32,parallel=1)",
    "I(10,16)-TB(4,32,parallel=2,mlp=geglu)",
    "I(10,16)-MoE(4,2,24)",
    "I(10,16)-MoE(4,1,24,mlp=gelu,bias=true,shared=2,shared_ff=8,router_bias=true)",
    "I(10,16)-MoE(3,2,8,mlp=geglu,shared=1)",
    "I(10,16)-TB(4,32,experts=4,topk=2,norm=rms,bias=false)",
    "I(10,16)-W(3)-W(2,5)-W(2,3,4)-H(4)",
]


@pytest.mark.frameworks
@pytest.mark.parametrize("convention", ["torch", "keras"])
@pytest.mark.parametrize("text", SEQUENCE_CASES)
def test_sequence_layers_and_forms_export(text, convention):
    assert_agrees(symparams.parse(text, convention=convention), convention)


@pytest.mark.frameworks
@pytest.mark.parametrize("convention", ["torch", "keras"])
@pytest.mark.parametrize("text", ["I(16,64)-[LN-MHA(8,window=4)+id]", "I(16,64)-TB(8,256,window=4)"])
def test_a_sliding_window_is_said_on_the_attention_line(text, convention):
    """A window changes only the key/value cache symparams counts; the exported layer has
    the same weights and attends to every position, and its line's comment says so."""
    net = symparams.parse(text, convention=convention)
    source = (to_torch if convention == "torch" else to_keras)(net)
    assert "window=4 is counted in the key/value cache only: this layer attends to every position" in " ".join(
        line.strip().lstrip("#").strip() for line in source.splitlines()
    )
    assert_agrees(net, convention)


@pytest.mark.frameworks
@pytest.mark.parametrize(
    "text",
    [
        "I(10)-[E(30,16) + E(30,16)]-O(30,tied=true)",
        "I(10)-E(30,16)-(LN-O(30,tied=true))",
        "head = LN-O(30,tied=true)\nI(10)-E(30,16)-TB(2,32)-head",
        "I(10)-E(30,16)-[O(30,tied=true) | O(30,bias=false,tied=true)]",
    ],
)
def test_tied_weights_inside_blocks(text):
    """torch ties an output inside a block with TiedLinear.tie; Keras's functional code ties
    only outputs of the main chain, and says so."""
    assert_agrees(symparams.parse(text), "torch")
    assert "TiedLinear.tie(self)" in to_torch(symparams.parse(text))
    with pytest.raises(ExportError, match="in the main chain"):
        to_keras(symparams.parse(text, convention="keras"))


@pytest.mark.frameworks
@pytest.mark.parametrize(
    "text", ["I(10,16)-TB(4,32)**3", "I(10,16)-(H(16)-relu)**2-H(3)", "I(4,4,3)-[C(3,3,p=1)-BN + id]**2-F-O(2)"]
)
def test_shared_repetition_is_one_module_applied_n_times(text):
    """X**n in torch: `Shared(module, n)`; in Keras one functional model applied n times."""
    assert_agrees(symparams.parse(text), "torch")
    assert "Shared(" in to_torch(symparams.parse(text))
    net = symparams.parse(text, convention="keras")
    assert_agrees(net, "keras")
    assert "for _ in range(" in to_keras(net) and "keras.Model(sharedrepeat1_input" in to_keras(net)


@pytest.mark.frameworks
@pytest.mark.parametrize("convention", ["torch", "keras"])
@pytest.mark.parametrize(
    "text", ["I(6,8)-Mamba", "I(6,8)-Mamba(4,expand=3,conv=2,dt=3,bias=true,conv_bias=false)"]
)
def test_mamba_exports(text, convention):
    assert_agrees(symparams.parse(text, convention=convention), convention)


# ---------------------------------------------------------------- the hypothesis generators
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.frameworks
@SETTINGS
@given(st.data(), st.sampled_from(["torch", "keras"]))
def test_random_chains_export_to_both_frameworks(data, drawn_for):
    """Chains drawn for one framework's API, exported to both: the other one needs the
    export's equivalents (explicit padding, crops, subsampling)."""
    from test_random_chains import grow_chain

    input_shape, specs = grow_chain(data, drawn_for)
    text = chain_text(input_shape, specs)
    assert_agrees_where_valid(text)


@pytest.mark.frameworks
@SETTINGS
@given(st.data())
def test_random_nestings_export_to_both_frameworks(data):
    from composition_models import text_of
    from test_composition_frameworks import model

    c, h, tree = data.draw(model(max_depth=3))
    text = text_of(c, h, tree)
    # The same nesting through definitions, as test_definitions_equal_the_text_they_stand_for writes it.
    defined = re.sub(r"C\((\d+),3,p=1\)", r"conv(\1, 1)", text).replace("BN", "norm")
    program = "conv(k, f) = C(k, 2*f+1, p=f)\nnorm = (BN-id)\n" + defined
    for source in (text, program):
        for convention in ("torch", "keras"):
            assert_agrees(symparams.parse(source, convention=convention), convention)


# ---------------------------------------------------------------- the code itself
GOLDEN = [
    ("mnist_cnn", "torch"),
    ("mnist_cnn", "keras"),
    ("resnet18", "torch"),
    ("gpt2", "keras"),
    ("gpt2", "torch"),
    ("transformer_base", "torch"),
    ("transformer_base", "keras"),
]


def exported(stem: str, framework: str) -> str:
    net = example(ROOT / "examples" / f"{stem}.arch", framework)
    return (to_torch if framework == "torch" else to_keras)(net, class_name(f"{stem}.arch"))


@pytest.mark.parametrize("stem,framework", GOLDEN)
def test_export_matches_the_golden_file(stem, framework):
    """The exported code of a few examples, kept stable (SYMPARAMS_UPDATE_GOLDEN=1 rewrites)."""
    path = EXPECTED / f"export_{stem}_{framework}.py.txt"
    source = exported(stem, framework)
    if os.environ.get("SYMPARAMS_UPDATE_GOLDEN"):
        path.write_text(source)
    assert source == path.read_text()


def test_exported_modules_pass_ruff(tmp_path):
    ruff = [sys.executable, "-m", "ruff"] if importlib.util.find_spec("ruff") else ["ruff"]
    for path in EXPORTABLE:
        for framework in ("torch",) if path.stem in NOT_EXPORTED_KERAS else ("torch", "keras"):
            net = example(path, framework)
            source = (to_torch if framework == "torch" else to_keras)(net, "Net")
            target = tmp_path / f"{path.stem}_{framework}.py"
            target.write_text(source)
    texts = [symparams.parse(t) for t in SEQUENCE_CASES] + [
        symparams.parse(chain_text(s, specs)) for s, specs, _ in LAYER_CASES[::5]
    ]
    for i, net in enumerate(texts):
        (tmp_path / f"case{i}_torch.py").write_text(to_torch(net))
        (tmp_path / f"case{i}_keras.py").write_text(to_keras(net))
    done = subprocess.run(
        ruff + ["check", "--no-cache", "--isolated", "--line-length", "110", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_exported_code_reads_like_the_text():
    source = exported("resnet18", "torch")
    assert "class Basic_64(nn.Module):" in source
    assert "self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)" in source
    assert "nn.Sequential(*(Basic_64() for _ in range(2)))  # basic(64)*2: 147,968 params" in source
    assert "def build() -> Resnet18:" in source
    keras_source = exported("mnist_cnn", "keras")
    assert 'x = layers.Conv2D(32, 5, name=f"{name}_conv1")(x)  # C(32,5): 832 params' in keras_source


# ---------------------------------------------------------------- the README's commands
@pytest.mark.frameworks
@pytest.mark.parametrize(
    "framework,expected,count",
    [
        ("torch", 25557032, "sum(p.numel() for p in m.parameters())"),
        ("keras", 25610152, "m.count_params()"),
    ],
)
def test_readme_resnet50_command(tmp_path, framework, expected, count):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "torch"}
    with open(tmp_path / "resnet50.py", "w") as out:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "symparams",
                "export",
                str(ROOT / "examples/resnet50.arch"),
                "--to",
                framework,
            ],
            stdout=out,
            check=True,
            env=env,
        )
    done = subprocess.run(
        [sys.executable, "-c", f"import resnet50; m = resnet50.build(); print({count})"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert done.stdout.strip().splitlines()[-1] == str(expected)
    assert "class Resnet50(nn.Module)" in (tmp_path / "resnet50.py").read_text() or framework == "keras"


# ---------------------------------------------------------------- the CLI
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.frameworks
def test_check_prints_rows_and_agrees(capsys):
    code, out, _ = run_cli(capsys, "check", str(ROOT / "examples/mnist_cnn.arch"), "--to", "keras")
    assert code == 0
    assert "stage(32, 5)" in out and "keras: agree" in out
    assert re.search(r"total\s+217,706\s+217,706", out)


@pytest.mark.frameworks
def test_check_exits_1_on_a_difference(capsys, monkeypatch):
    """The check can fail: an exporter that builds the wrong Linear is caught at its row."""
    from symparams.export import torch_code

    monkeypatch.setitem(torch_code.TORCH, "O", lambda row, shape, w: f"nn.Linear({shape[-1]}, 11)")
    code, out, _ = run_cli(capsys, "check", "I(28,28,1)-C(8,3)-F-O(10)")
    assert code == 1
    assert "torch: differ at O(10): symparams counts 54,090, torch 59,499" in out


def test_export_prints_the_module(capsys):
    code, out, _ = run_cli(capsys, "export", "I(28,28,1)-C(8,3)-relu-F-O(10)", "--to", "torch")
    assert code == 0 and out.startswith(
        '"""Net, exported by symparams from:\n\n    I(28,28,1)-C(8,3)-relu-F-O(10)'
    )
    code, out, _ = run_cli(
        capsys, "export", "I(t)-E(10,4)", "--to", "keras", "--subs", "t=5", "--name", "Tiny"
    )
    assert code == 0 and "INPUT_SHAPE = (5,)" in out and 'name="tiny"' in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["export", "I(8)-H(4)", "--to", "jax"], "argument --to: invalid choice: 'jax'"),
        (["check", "I(8)-H(4)", "--to", "tf"], "argument --to: invalid choice: 'tf'"),
        (["export", "I(8)-H(4)"], "the following arguments are required: --to"),
        (["export", "I(h,w,3)-C(8,3)-GAP-O(n)", "--to", "torch"], "free symbols (h, n, w)"),
        (["check", "I(t,d)-TB(4,4*d)", "--subs", "t=8"], "free symbols (d)"),
        (["export", "I(8)-H(4)", "--to", "torch", "--subs", "q=3"], "has no symbol 'q'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("framework,package", [("torch", "torch"), ("keras", "keras")])
def test_a_missing_framework_names_the_package(capsys, monkeypatch, framework, package):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == package else real(name, *a)
    )
    code, out, err = run_cli(capsys, "check", "I(8)-H(4)", "--to", framework)
    assert code == 2 and out == ""
    assert f"pip install 'symparams[{framework}]'" in err and err.count("\n") == 1


def test_the_api_refuses_free_symbols_and_takes_any_convention():
    with pytest.raises(ExportError, match=r"free symbols \(c, h, w\)"):
        to_torch(symparams.parse("I-C(8,3)"))
    keras_net = symparams.parse("I(8,8,3)-C(4,3)-BN", convention="keras")
    assert "nn.BatchNorm2d(4)" in to_torch(keras_net)  # exported with torch's counts
    assert "112 params" in to_torch(keras_net) and "layers.BatchNormalization" in to_keras(keras_net)
