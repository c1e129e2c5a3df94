"""Acceptance as the frameworks decide it (issue 20), and the API-limit notes (issues 13
and 20). Each case is checked against the real framework: PyTorch 2.13 and Keras 3
(KERAS_BACKEND=torch) build or refuse it here, then symparams must agree, or count it
with a note naming the layer, the framework's rule and the nearest text it builds."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

import symparams
from symparams.base.expr import symbol
from symparams.cli import main

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
K = keras.layers

pytestmark = pytest.mark.frameworks


def keras_model(shape, *layers):
    model = keras.Sequential([keras.Input(shape), *layers])
    y = model(np.zeros((1, *shape), "float32"))  # a real forward pass on the torch backend
    return model.count_params(), tuple(y.shape[1:])


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------ Keras T with output padding
@pytest.mark.parametrize("f", [2, 3])
@pytest.mark.parametrize("p", [None, "valid", "same"])
def test_keras_transposed_conv_takes_output_padding(f, p):
    kw = {} if p is None else {"padding": p}
    expected = keras_model((17, 17, 5), K.Conv2DTranspose(2, f, strides=2, output_padding=1, **kw))
    text = f"I(17,17,5)-T(2,{f},s=2,op=1{'' if p is None else ',p=' + p})"
    net = symparams.parse(text, convention="keras")
    assert (net.params, net.output_shape) == expected
    # Keras' rule (backend_utils._get_output_shape_given_tf_padding), k = d(f-1)+1:
    #   valid: (x-1)s + k + op        same: (x-1)s + k % 2 + op
    x, s, op, k = 17, 2, 1, f
    rule = (x - 1) * s + k + op if p in (None, "valid") else (x - 1) * s + k % 2 + op
    assert expected[1][:2] == (rule, rule)


def test_keras_t_with_output_padding_example_from_the_issue():
    assert keras_model((17, 17, 5), K.Conv2DTranspose(2, 2, strides=2, output_padding=1)) == (42, (35, 35, 2))
    net = symparams.parse("I(17,17,5)-T(2,2,s=2,op=1)", convention="keras")
    assert (net.params, net.output_shape) == (42, (35, 35, 2))


# ------------------------------------------------------------ output padding must be small
def test_torch_refuses_output_padding_not_below_stride_or_dilation():
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        torch.nn.ConvTranspose2d(5, 2, 2, stride=2, output_padding=2)(torch.zeros(1, 5, 17, 17))
    with pytest.raises(symparams.ShapeError, match="output padding"):
        symparams.parse("I(17,17,5)-T(2,2,s=2,op=2)")


def test_torch_accepts_output_padding_below_dilation():
    built = torch.nn.ConvTranspose2d(3, 2, 2, stride=1, dilation=2, output_padding=1)
    shape = tuple(built(torch.zeros(1, 3, 28, 28)).shape[1:])
    assert shape == (2, 31, 31)
    net = symparams.parse("I(28,28,3)-T(2,2,s=1,d=2,op=1)")
    assert net.output_shape == shape  # passes today: the "or dilation" half of torch's rule


def test_keras_refuses_output_padding_not_below_stride():
    with pytest.raises(ValueError, match="must be strictly less than"):
        keras_model((17, 17, 5), K.Conv2DTranspose(2, 2, strides=2, output_padding=2))
    with pytest.raises(symparams.ShapeError, match="output padding"):
        symparams.parse("I(17,17,5)-T(2,2,s=2,op=2,p=0)", convention="keras")


def test_symbolic_output_padding_becomes_a_condition():
    net = symparams.parse("I(17,17,5)-T(2,2,s=s,op=q)")
    assert any("q" in str(c) and "s" in str(c) for c in net.conditions)
    with pytest.raises(symparams.ShapeError):
        net.subs(s=2, q=2)


# ------------------------------------------------------------ tied output, symbolic vocabulary
def test_tied_output_with_symbolic_vocabulary_is_a_condition():
    net = symparams.parse("I(6)-E(k,12)-O(32,tied=true)")
    assert [str(c) for c in net.conditions] == ["Eq(k, 32)"]
    assert net.subs(k=32).params == symparams.parse("I(6)-E(32,12)-O(32,tied=true)").params


# ------------------------------------------------------------ symbolic repetition that keeps shape under a condition
def test_shape_changing_block_repeated_symbolically_is_its_first_application_then_the_rest():
    # SwiGLU(3) maps (5, c) to (5, 3) and then keeps it: X*L is X, then X*(L-1) on (5, 3),
    # exactly what the numeric build unrolls, so it holds for every c (no condition needed).
    net = symparams.parse("I(5,c)-SwiGLU(3)*L")
    assert net.conditions == ()
    for c, n in [(3, 4), (4, 2), (7, 1)]:
        numeric = symparams.parse(f"I(5,{c})-SwiGLU(3)*{n}")
        assert net.params.subs({symbol("c"): c, symbol("L"): n}) == numeric.params
        assert net.subs(c=c, L=n).params == numeric.params


def test_symbolic_repetition_that_keeps_its_shape_only_under_a_condition_carries_it():
    net = symparams.parse("I(h,w,c)-C(8,f,p=1)*L")
    assert {str(c) for c in net.conditions} >= {"Eq(8, c)", "Eq(-f + h + 3, h)"}
    model = torch.nn.Sequential(*(torch.nn.Conv2d(8, 8, 3, padding=1) for _ in range(3)))
    y = model(torch.zeros(1, 8, 10, 12))
    got = net.subs(c=8, f=3, L=3, h=10, w=12)
    assert (got.params, got.output_shape) == (sum(p.numel() for p in model.parameters()), tuple(y.shape[1:]))
    assert net.params.subs({symbol("c"): 8, symbol("f"): 3, symbol("L"): 3}) == got.params


# ------------------------------------------------------------ degree limit
def test_pooling_with_symbolic_kernel_then_tokens_is_not_a_limit_error():
    net = symparams.parse("I(5,w,3)-A(f,p=1)*4-SEQ")
    assert net.subs(w=40, f=2).output_shape == symparams.parse("I(5,40,3)-A(2,p=1)*4-SEQ").output_shape


# ------------------------------------------------------------ API limits: notes
def _notes(capsys, text, convention):
    code, out, err = run(capsys, text, "--convention", convention, "--json")
    assert code == 0, err
    notes = json.loads(out).get("notes")
    assert isinstance(notes, list) and notes, "expected the JSON to carry notes as a list"
    return " ".join(notes)


def _refused(fn):
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - any framework refusal
        return str(err)
    return None


LIMITS = [
    # (text, convention, real framework refusal, words the note must hold)
    ("I(28,28,3)-C(32,3,s=2,p=same)", "torch",
     lambda: torch.nn.Conv2d(3, 32, 3, stride=2, padding="same"), ["stride", "p=1"]),
    ("I(28,28,3)-DW(3,s=2,p=same)", "torch",
     lambda: torch.nn.Conv2d(3, 3, 3, stride=2, padding="same", groups=3), ["stride", "p=1"]),
    ("I(28,28,3)-SC(8,3,s=2,p=same)", "torch",
     lambda: torch.nn.Conv2d(3, 3, 3, stride=2, padding="same", groups=3), ["stride", "p=1"]),
    ("I(28,28,3)-T(2,3,s=2,p=same)", "torch",
     lambda: torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding="same")(torch.zeros(1, 3, 28, 28)),
     ["T(2,3,s=2,p=1,op=1)"]),
    ("I(28,28,3)-P(2,p=2)", "torch",
     lambda: torch.nn.MaxPool2d(2, padding=2)(torch.zeros(1, 3, 28, 28)), ["half", "Z(2)-P(2)"]),
    ("I(28,28,3)-C(8,3,s=2,d=2)", "keras",
     lambda: keras_model((28, 28, 3), K.Conv2D(8, 3, strides=2, dilation_rate=2)), ["dilation", "P(1,s=2)"]),
    ("I(28,28,3)-P(3,s=2,ceil=true)", "keras", None, ["ceil"]),
    ("I(1,1,1,2)-A(3,p=same)", "keras",
     lambda: keras_model((1, 1, 1, 2), K.AveragePooling3D(3, padding="same")), ["smaller than", "Z(1)-A(3)"]),
]


@pytest.mark.parametrize("text, convention, refusal, words", LIMITS, ids=[t for t, *_ in LIMITS])
def test_api_limit_is_counted_with_a_note(capsys, text, convention, refusal, words):
    if refusal is not None:
        assert _refused(refusal), "the framework is expected to refuse this layer"
    layer = text.split("-", 1)[1]
    notes = _notes(capsys, text, convention)
    assert layer in notes
    for word in words:
        assert word in notes


def test_torch_builds_what_the_notes_propose():
    x = torch.zeros(1, 3, 28, 28)
    assert tuple(torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1)(x).shape[1:]) == (2, 56, 56)
    assert symparams.parse("I(28,28,3)-T(2,3,s=2,p=same)").output_shape == (2, 56, 56)
    pooled = torch.nn.Sequential(torch.nn.ZeroPad2d(2), torch.nn.MaxPool2d(2))(x)
    assert tuple(pooled.shape[1:]) == symparams.parse("I(28,28,3)-P(2,p=2)").output_shape


def test_keras_depthwise_with_stride_and_dilation_is_not_a_limit(capsys):
    # Keras 3 refuses strides > 1 with dilation > 1 only in Conv and ConvTranspose.
    assert keras_model((28, 28, 3), K.DepthwiseConv2D(3, strides=2, dilation_rate=2)) == (30, (12, 12, 3))
    code, out, err = run(capsys, "I(28,28,3)-DW(3,s=2,d=2)", "--convention", "keras", "--json")
    assert code == 0 and not json.loads(out).get("notes")


# ------------------------------------------------------------ symbolic and numeric agree
AGREE = [
    ("I(6)-E(k,12)-O(32,tied=true)", {"k": 32}, "I(6)-E(32,12)-O(32,tied=true)"),
    ("I(5,c)-SwiGLU(3)*L", {"c": 3, "L": 2}, "I(5,3)-SwiGLU(3)*2"),
    ("I(h,h,5)-T(2,2,s=2,op=1)", {"h": 17}, "I(17,17,5)-T(2,2,s=2,op=1)"),
    ("I(5,w,3)-A(f,p=1)*4-SEQ-H(8)", {"w": 40, "f": 2}, "I(5,40,3)-A(2,p=1)*4-SEQ-H(8)"),
    ("I(h,w,8)-[C(8,1,s=2) + C(8,3,s=2,p=same)]", {"h": 9, "w": 10}, "I(9,10,8)-[C(8,1,s=2) + C(8,3,s=2,p=same)]"),
]


@pytest.mark.parametrize("convention", ["torch", "keras"])
@pytest.mark.parametrize("symbolic, values, numeric", AGREE, ids=[a for a, *_ in AGREE])
def test_symbolic_subs_equals_numeric(convention, symbolic, values, numeric):
    try:
        expected = symparams.parse(numeric, convention=convention)
    except symparams.SymparamsError as err:
        with pytest.raises(symparams.SymparamsError):
            symparams.parse(symbolic, convention=convention).subs(**values)
        return str(err)
    got = symparams.parse(symbolic, convention=convention).subs(**values)
    assert (got.params, got.trainable, got.output_shape) == (expected.params, expected.trainable,
                                                             expected.output_shape)


def test_torch_same_padding_with_stride_is_counted_with_a_note(capsys):
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        torch.nn.Conv2d(3, 32, 3, stride=2, padding="same")
    built = torch.nn.Conv2d(3, 32, 3, stride=2, padding=1)  # what the note proposes
    assert sum(p.numel() for p in built.parameters()) == 896
    assert tuple(built(torch.zeros(1, 3, 28, 28)).shape[1:]) == (32, 14, 14)
    code, out, err = run(capsys, "I(28,28,3)-C(32,3,s=2,p=same)")
    assert code == 0 and "Total params: 896" in out
    note = out[out.index("Total params"):]
    assert "Note: C(32,3,s=2,p=same): PyTorch refuses padding='same'" in note and "C(32,3,s=2,p=1)" in note


@pytest.mark.parametrize("x", [27, 28])
@pytest.mark.parametrize("f, d", [(4, 1), (2, 1), (2, 3), (3, 2)])
def test_torch_same_padding_note_builds_what_it_says(x, f, d):
    """The explicit padding of the note, built in PyTorch, gives symparams' shape; an even
    kernel on a size no symmetric padding fits is said to need asymmetric padding."""
    net = symparams.parse(f"I({x},{x + 1},3)-C(8,{f},s=2,d={d},p=same)")
    (note,) = net.notes
    if "no symmetric padding" in note:
        pads = note[note.index("nn.ZeroPad2d((") + len("nn.ZeroPad2d(("):].split("))")[0]
        pad = torch.nn.ZeroPad2d(tuple(int(v) for v in pads.split(",")))
        model = torch.nn.Sequential(pad, torch.nn.Conv2d(3, 8, f, stride=2, dilation=d))
    else:
        alt = note.split("; ")[1].split(" builds")[0]
        rebuilt = symparams.parse(f"I({x},{x + 1},3)-{alt}")
        assert not rebuilt.notes
        written = re.search(r"p=(\(\d+,\d+\)|\d+)", alt).group(1)
        p = tuple(int(v) for v in written.strip("()").split(",")) if "(" in written else int(written)
        model = torch.nn.Conv2d(3, 8, f, stride=2, dilation=d, padding=p)
    y = model(torch.zeros(1, 3, x, x + 1))
    assert tuple(y.shape[1:]) == net.output_shape
    assert sum(q.numel() for q in model.parameters()) == net.params


def test_notes_in_every_report(capsys):
    text = "I(28,28,3)-C(32,3,s=2,p=same)"
    net = symparams.parse(text)
    assert len(net.notes) == 1 and net.notes[0].startswith("C(32,3,s=2,p=same): ")
    from symparams.render import markdown

    assert "**Note:**" in markdown(net) and "C(32,3,s=2,p=1)" in markdown(net)
    assert "<b>Note:</b>" in net._repr_html_()
    code, out, _ = run(capsys, text, "--latex")
    assert code == 0 and "Note: " in out and "C(32,3,s=2,p=1)" in out
    code, out, _ = run(capsys, "I(28,28,3)-C(32,3,p=same)", "--json")
    assert json.loads(out)["notes"] == []  # always present, empty when there are none


def test_notes_survive_subs_and_modes():
    net = symparams.parse("I(h,w,3)-C(32,3,s=2,p=same)")
    assert net.notes and net.subs(h=28, w=28).notes == net.notes
    assert symparams.parse("I(h,w,3)-C(32,3,s=2,p=same)", mode="ideal").notes == net.notes
    # Repeated and unrolled copies of one layer give one note.
    assert len(symparams.parse("I(64,64,3)-C(3,3,s=2,p=same)*3").notes) == 1


def test_keras_notes_propose_what_keras_builds():
    # C(8,3,s=2,d=2) under keras: the note's C(8,3,d=2)-P(1,s=2)
    expected = keras_model((28, 28, 3), K.Conv2D(8, 3, dilation_rate=2), K.MaxPooling2D(1, strides=2))
    net = symparams.parse("I(28,28,3)-C(8,3,s=2,d=2)", convention="keras")
    assert "C(8,3,d=2)-P(1,s=2)" in net.notes[0]
    assert (net.params, net.output_shape) == expected
    # ceil=true: the note's ZeroPadding2D(((0, 1), (0, 1))) then MaxPooling2D(3, strides=2)
    for x in (27, 28):
        net = symparams.parse(f"I({x},{x},3)-P(3,s=2,ceil=true)", convention="keras")
        pad = net.notes[0].split("ZeroPadding2D((")[1].split(")) then")[0]
        pairs = tuple(tuple(int(v) for v in pair.strip("() ").split(",")) for pair in pad.split("), ("))
        expected = keras_model((x, x, 3), K.ZeroPadding2D(pairs), K.MaxPooling2D(3, strides=2))
        assert net.output_shape == expected[1]
    # the torch backend's 3-D average pool: Z(1)-A(3)
    expected = keras_model((1, 1, 1, 2), K.ZeroPadding3D(1), K.AveragePooling3D(3))
    net = symparams.parse("I(1,1,1,2)-A(3,p=same)", convention="keras")
    assert net.output_shape == expected[1] == (1, 1, 1, 2)
    assert not symparams.parse("I(2,2,2,2)-A(3,p=same)", convention="keras").notes  # asymmetric: it builds
    keras_model((2, 2, 2, 2), K.AveragePooling3D(3, padding="same"))


def test_keras_integer_padded_transposed_conv_note():
    # Keras has no integer padding on Conv2DTranspose: valid with op, then a crop.
    net = symparams.parse("I(17,17,5)-T(2,3,s=2,p=1)", convention="keras")
    assert "T(2,3,s=2,p=valid,op=0) then keras.layers.Cropping2D(1)" in net.notes[0]
    expected = keras_model((17, 17, 5), K.Conv2DTranspose(2, 3, strides=2, output_padding=0), K.Cropping2D(1))
    assert (net.params, net.output_shape) == expected


def test_symbolic_repetition_of_a_block_that_never_keeps_its_shape_is_refused():
    with pytest.raises(symparams.ShapeError, match="keeps its shape"):
        symparams.parse("I(h,w,3)-C(8,3)*L")  # h - 2, then h - 4: never settles


def test_tied_output_refuses_a_numeric_mismatch():
    with pytest.raises(symparams.ShapeError, match="tied=true"):
        symparams.parse("I(6)-E(50,12)-O(32,tied=true)")


@pytest.mark.parametrize("layers", [8, 24])
def test_realistic_symbolic_chains_stay_under_the_limits(layers):
    """Symbolic kernels, strides and paddings in chains of tens of layers."""
    body = "-".join(["C(n,f,p=q)-BN-relu", "P(f)", "C(2*n,k,s=s,p=same)", "A(k,p=1)"] * (layers // 4))
    net = symparams.parse(f"I(h,w,3)-{body}-GAP-O(10)")
    assert net.params.free_symbols


# ------------------------------------------------------------ what the notes propose, built for real
def test_keras_ceil_note_builds_torch_ceil_mode_shapes():
    """The note's ZeroPadding2D + valid pool gives, in Keras, the shape PyTorch's ceil mode gives."""
    for x in range(2, 9):
        for f in range(1, 5):
            for s in range(1, 4):
                for p in range(0, f // 2 + 1):
                    try:
                        y = torch.nn.MaxPool2d(f, s, p, ceil_mode=True)(torch.zeros(1, 1, x, x + 1))
                    except RuntimeError:
                        continue
                    net = symparams.parse(f"I({x},{x + 1},1)-P({f},s={s},p={p},ceil=true)", convention="keras")
                    assert net.output_shape == tuple(y.shape[2:]) + (1,)
                    (note,) = net.notes
                    pad = note.split("ZeroPadding2D((")[1].split(")) then")[0]
                    pairs = tuple(tuple(int(v) for v in pair.strip("() ").split(",")) for pair in pad.split("), ("))
                    built = keras_model((x, x + 1, 1), K.ZeroPadding2D(pairs), K.MaxPooling2D(f, strides=s))
                    assert built[1] == net.output_shape, (x, f, s, p, note)


@pytest.mark.parametrize("p", ["same", "valid"])
def test_torch_transposed_note_builds_the_same_shape(p):
    for f in range(1, 5):
        for s in range(1, 4):
            for d in (1, 2):
                for op in (None, 0, 1, 2):
                    text = f"I(7,6,2)-T(3,{f},s={s},d={d},p={p}" + ("" if op is None else f",op={op}") + ")"
                    try:
                        net = symparams.parse(text)
                    except symparams.ShapeError:
                        assert op is not None and not (op < s or op < d)
                        continue
                    (note,) = net.notes
                    if "builds the same shape" not in note:
                        continue
                    alt = re.search(r"; (T\([^ ]*\)) builds", note).group(1)
                    pads = int(re.search(r"p=(\d+)", alt).group(1))
                    ops = int(re.search(r"op=(\d+)", alt).group(1)) if "op=" in alt else 0
                    model = torch.nn.ConvTranspose2d(2, 3, f, stride=s, padding=pads, output_padding=ops, dilation=d)
                    y = model(torch.zeros(1, 2, 7, 6))
                    assert tuple(y.shape[1:]) == net.output_shape, (text, note)
                    assert sum(q.numel() for q in model.parameters()) == net.params


def test_torch_pool_notes_build_the_same_shape():
    for x in range(3, 9):
        for f in range(1, 5):
            for s in range(1, 4):
                for p in ["same", *range(f // 2 + 1, f + 1)]:
                    text = f"I({x},{x + 1},1)-P({f},s={s},p={p})"
                    try:
                        net = symparams.parse(text)
                    except symparams.ShapeError:
                        continue
                    (note,) = net.notes
                    if "nn.ZeroPad2d((" in note:
                        pads = note.split("nn.ZeroPad2d((")[1].split("))")[0]
                        pad = torch.nn.ZeroPad2d(tuple(int(v) for v in pads.split(",")))
                    else:
                        z = re.search(r"Z\((\d+|\(\d+,\d+\))\)", note).group(1)
                        zs = tuple(int(v) for v in z.strip("()").split(",")) if "(" in z else (int(z),) * 2
                        pad = torch.nn.ZeroPad2d((zs[1], zs[1], zs[0], zs[0]))
                    y = torch.nn.Sequential(pad, torch.nn.MaxPool2d(f, s))(torch.zeros(1, 1, x, x + 1))
                    assert tuple(y.shape[1:]) == net.output_shape, (text, note)


@pytest.mark.parametrize("f, s, d, p", [(3, 2, 2, "valid"), (2, 3, 2, "same"), (3, 2, 3, 1), (1, 2, 2, "valid")])
def test_keras_stride_dilation_note_builds_the_same_shape(f, s, d, p):
    net = symparams.parse(f"I(23,20,3)-C(4,{f},s={s},d={d},p={p})", convention="keras")
    alt = re.search(r"; (C\(.*\)-P\(1,s=\d+\)) builds", net.notes[0]).group(1)
    rebuilt = symparams.parse(f"I(23,20,3)-{alt}", convention="keras")
    assert not rebuilt.notes and (rebuilt.params, rebuilt.output_shape) == (net.params, net.output_shape)
    pre = [K.ZeroPadding2D(p)] if isinstance(p, int) else []
    built = keras_model((23, 20, 3), *pre, K.Conv2D(4, f, dilation_rate=d, padding="valid" if pre else p),
                        K.MaxPooling2D(1, strides=s))
    assert built == (net.params, net.output_shape)
