"""MACs (torchinfo's Mult-Adds) per layer and in total, checked against torchinfo's
summary of the same PyTorch model, built here by hand.

torch and torchinfo are imported inside the tests, so the rest of the suite does not
pay for them.
"""

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams


def torchinfo_macs(model, input_shape):
    """torchinfo's total Mult-Adds for one sample of `input_shape` (channels first)."""
    from torchinfo import summary

    return summary(model, input_size=(1, *input_shape), verbose=0).total_mult_adds


def torch_models():
    """(text, torch model, torch input shape) triples."""
    from torch import nn

    class Last(nn.Module):
        """Applies a channels-last layer to a channels-first sequence, as the language does."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x.transpose(1, -1)).transpose(1, -1)

    return [
        ("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)",
         nn.Sequential(nn.Conv2d(1, 32, 5), nn.MaxPool2d(2), nn.Conv2d(32, 32, 3), nn.MaxPool2d(2),
                       nn.Flatten(), nn.Linear(800, 256), nn.Linear(256, 10)), (1, 28, 28)),
        ("I(17,19,8)-C(16,3,s=2,p=1,d=2,g=4,bias=false)-BN-relu-T(8,(3,2),s=2,p=1,op=1)",
         nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1, dilation=2, groups=4, bias=False),
                       nn.BatchNorm2d(16), nn.ReLU(),
                       nn.ConvTranspose2d(16, 8, (3, 2), stride=2, padding=1, output_padding=1)),
         (8, 17, 19)),
        ("I(20,21,6)-DW(3,m=2)-SC(10,3,s=2,m=3)-A(2)-F-H(7,bias=false)",
         nn.Sequential(nn.Conv2d(6, 12, 3, groups=6),
                       nn.Conv2d(12, 36, 3, stride=2, groups=12, bias=False), nn.Conv2d(36, 10, 1),
                       nn.AvgPool2d(2), nn.Flatten(), nn.Linear(10 * 4 * 4, 7, bias=False)), (6, 20, 21)),
        ("I(50,4)-C(8,5,s=2,p=same)-LN-RMS-C(6,3,p=2)-F-O(3)",
         nn.Sequential(nn.Conv1d(4, 8, 5, stride=2, padding=2), Last(nn.LayerNorm(8)),
                       Last(nn.RMSNorm(8)), nn.Conv1d(8, 6, 3, padding=2), nn.Flatten(),
                       nn.Linear(6 * 27, 3)), (4, 50)),
        ("I(8,9,10,2)-C(4,3)-BN-P(2,s=1)-GAP-H(5)",
         nn.Sequential(nn.Conv3d(2, 4, 3), nn.BatchNorm3d(4), nn.MaxPool3d(2, stride=1),
                       nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(4, 5)), (2, 8, 9, 10)),
    ]


@pytest.mark.frameworks
def test_macs_equal_torchinfo_mult_adds():
    for text, model, shape in torch_models():
        net = symparams.parse(text)
        assert net.macs == torchinfo_macs(model, shape), text


@pytest.mark.frameworks
def test_layer_macs_equal_torchinfo_per_layer():
    from torchinfo import summary

    text, model, shape = torch_models()[0]
    stats = summary(model, input_size=(1, *shape), verbose=0)
    torch_rows = [row.macs for row in stats.summary_list if row.is_leaf_layer and row.class_name != "Flatten"]
    ours = [row.macs for row in symparams.parse(text).layers[1:]]
    assert ours == torch_rows


def test_symbolic_macs_substitute_to_the_numeric_ones():
    net = symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    h, w, c = (sympy.Symbol(n, integer=True, positive=True) for n in "hwc")
    assert net.macs.free_symbols == {h, w, c}
    for values in ({"h": 28, "w": 28, "c": 1}, {"h": 31, "w": 45, "c": 3}):
        numeric = symparams.parse("I({h},{w},{c})-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)".format(**values))
        assert net.macs.subs({h: values["h"], w: values["w"], c: values["c"]}) == numeric.macs
        assert net.subs(**values).macs == numeric.macs


def test_layer_macs_add_up_to_the_total():
    net = symparams.parse("I(32,32,3)-C(16,3,p=same)-BN-relu-P(2)-C(32,3)-F-H(64)-O(10)")
    assert sum(row.macs for row in net.layers) == net.macs
    assert [row.macs for row in net.layers if row.kind in ("MaxPool2D", "ReLU", "Flatten", "Input")] == [0] * 4


@pytest.mark.frameworks
@settings(max_examples=12, deadline=None)
@given(
    size=st.integers(9, 24), c=st.integers(1, 4), n=st.integers(1, 6), f=st.integers(1, 4),
    s=st.integers(1, 3), p=st.integers(0, 1), bias=st.booleans(), pool=st.integers(1, 2),
    hidden=st.integers(1, 9),
)
def test_random_conv_nets_equal_torchinfo(size, c, n, f, s, p, bias, pool, hidden):
    from torch import nn

    conv = nn.Conv2d(c, n, f, stride=s, padding=p, bias=bias)
    side = (size + 2 * p - f) // s + 1
    side //= pool
    model = nn.Sequential(conv, nn.MaxPool2d(pool), nn.Flatten(), nn.Linear(n * side * side, hidden))
    text = f"I({size},{size},{c})-C({n},{f},s={s},p={p},bias={'true' if bias else 'false'})-P({pool})-H({hidden})"
    assert symparams.parse(text).macs == torchinfo_macs(model, (c, size, size))


# ---------------------------------------------------------------- memory
@pytest.mark.frameworks
def test_activations_equal_the_outputs_of_a_torch_forward_pass():
    import torch

    for text, model, shape in torch_models():
        written = []
        leaves = [m for m in model.modules() if not list(m.children()) and type(m).__name__ != "Flatten"]
        for leaf in leaves:
            leaf.register_forward_hook(lambda mod, inp, out, into=written: into.append(out.numel()))
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *shape))
        net = symparams.parse(text)
        if "SC(" in text:  # a separable conv is two torch convs but one layer here: its middle is not an output
            continue
        assert net.activations == sum(written), text


def test_memory_by_dtype():
    net = symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    numeric = net.subs(h=28, w=28, c=1)
    assert [numeric.memory(d) for d in ("float32", "bfloat16", "float16", "int8")] == [
        217_706 * 4, 217_706 * 2, 217_706 * 2, 217_706]
    assert sympy.expand(net.memory("float16") - 2 * net.params) == 0
    # activations: 32·24·24 + 32·12·12 + 32·10·10 + 32·5·5 + 256 + 10 outputs
    assert numeric.activations == 32 * 24 * 24 + 32 * 12 * 12 + 32 * 10 * 10 + 32 * 5 * 5 + 256 + 10
    assert numeric.activation_memory("bfloat16") == 2 * numeric.activations
    h, w = sympy.Symbol("h", integer=True, positive=True), sympy.Symbol("w", integer=True, positive=True)
    assert net.activations.subs({h: 28, w: 28}) == numeric.activations
    with pytest.raises(symparams.SymparamsError, match="unknown dtype"):
        net.memory("float7")


def test_cli_prints_macs_and_memory(capsys):
    from symparams.cli import main

    assert main(["I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "--macs", "--dtype", "int8"]) == 0
    out = capsys.readouterr().out
    net = symparams.parse("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    assert f"Total MACs: {int(net.macs):,}" in out
    assert "Parameter memory (int8): 217,706 bytes" in out
    assert main(["I-C(8,3)-F-O(2)", "--macs", "--memory", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["macs"] == str(symparams.parse("I-C(8,3)-F-O(2)").macs)
    assert data["dtype"] == "float32" and data["param_memory"] == str(4 * symparams.parse("I-C(8,3)-F-O(2)").params)


@pytest.mark.frameworks
def test_blocks_branches_and_repetition_equal_torchinfo():
    import torch
    from torch import nn

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))

        def forward(self, x):
            return self.body(x) + x

    class Concat(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(8, 4, 1), nn.Conv2d(8, 6, 3, padding=1)

        def forward(self, x):
            return torch.cat([self.a(x), self.b(x)], 1)

    model = nn.Sequential(Residual(), Residual(), Concat(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(10, 10))
    text = "I(16,16,8)-[C(8,3,p=1)-BN-relu-C(8,3,p=1)-BN + id]*{}-[C(4,1)|C(6,3,p=1)]-GAP-O(10)"
    expected = torchinfo_macs(model, (8, 16, 16))
    assert symparams.parse(text.format(2)).macs == expected
    assert symparams.parse(text.format("L")).subs(L=2).macs == expected
