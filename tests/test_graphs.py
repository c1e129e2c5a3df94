"""Graphs (README "Graphs"): named tensors, several inputs and outputs, cross-attention;
checked against the real models (nn.Transformer, torchvision's googlenet and inception_v3
with their auxiliary heads, an FPN by hand in PyTorch and Keras, BART-base, T5-small,
Whisper-tiny, CLIP ViT-B/32) and in symbols."""

import json
import math
import sys
import types
from pathlib import Path

import graph_models as G
import pytest

import symparams
from symparams.cli import main
from symparams.report.text import table

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- the language
def test_a_tensor_read_twice_counts_once():
    net = symparams.parse("x := I(4); h := x-H(3); [h | h]-O(1)")
    assert net.params == (4 * 3 + 3) + (6 + 1)
    assert net.tensor_names == ("x", "h", "output") and net.outputs == ("output",)
    assert [net.subtotal(n) for n in net.tensor_names] == [0, 15, 7]
    # A memory read by six cross-attentions is counted once as well.
    mem = symparams.parse("m := I(5,16)-H(32); I(7,32)-[XA(4, memory=m) + id]*6-O(2)")
    assert mem.subtotal("m") == 16 * 32 + 32
    assert mem.params == 544 + 6 * (4 * 32 * 32 + 4 * 32) + 66  # k, v from the memory's width 32


def test_several_inputs_and_outputs():
    net = symparams.parse("a := I(4); b := I(3); ab := [a | b]-H(2); c := b-H(5); ab, c")
    assert net.input_shape == [(4,), (3,)] and net.output_shape == [(2,), (5,)]
    assert net.outputs == ("ab", "c") and net.params == 7 * 2 + 2 + 3 * 5 + 5
    # One name on the last line returns that tensor: no section of its own.
    one = symparams.parse("a := I(4); b := a-H(2); b")
    assert one.outputs == ("b",) and one.output_shape == (2,) and one.input_shape == (4,)


def test_definitions_take_tensor_names():
    text = "attend(m) = [LN-XA(2, memory=m) + id]; fuse(a) = [id | a]; e := I(5,8)-H(8); I(5,8)-attend(e)*2-fuse(e)"
    net = symparams.parse(text)
    assert net.output_shape == (5, 16)
    assert net.params == 8 * 8 + 8 + 2 * (16 + 4 * 64 + 4 * 8)


def test_cross_attention_symbolic_and_keys_from_the_memory_width():
    net = symparams.parse("enc := I(s,m); I(t,d)-XA(h, memory=enc)")
    d, m = (symparams.parse("I(d)").layers[0].shape[0], next(iter(net.free_symbols - {net.layers[-1].shape[0]})))
    assert str(net.params) == "2*d**2 + 2*d*m + 4*d"
    assert net.output_shape == net.section("output")[-1].output_shape
    assert str(net.conditions[0]) == "Eq(Mod(d, h), 0)"
    del d, m


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("a := I(3); b := I(4)-H(2); b", "input 'a' is never used", 1),
        ("a := b-H(3); b := I(3)-H(2); a", "'b' is used before it is defined", 6),
        ("a := I(3)-H(2); b := a-[id | c]; c := I(2); b", "'c' is used before it is defined", 30),
        ("a := a-H(3); a", "cycle: tensor 'a' reads itself", 6),
        ("a := I(2)-b; b := a-H(2); b", "cycle: a → b → a", 19),
        ("x := I(3); y := x-H(2)-x; y", "can only start a line or a branch", 24),
        ("x := I(3); x := I(3); x", "bound twice", 12),
        ("x := I(3); x, y", "unknown tensor 'y' among the outputs", 15),
        ("x := I(3); x, x", "listed twice", 15),
        ("H := I(3); H", "built-in layer", 1),
        ("x := I(3); I(3)-H(2); x := I(3)", "must come before the network's last line", 23),
        ("m := I(3); I(5,3)-XA(1, memory=m)", "attends to a sequence", 19),
        ("m := I(5,3); I(5,3)-XA(1, memory=3)", "must be the name of a tensor", 34),
        ("I(5,3)-XA(1, memory=m)", "unknown tensor 'm'", 21),
        ("enc := I(3); ecn-H(2)", "unknown tensor 'ecn'", 14),
        ("x := I(4,3); I(5,5,2)-RS(like=x)", "a tensor [4, 3] with 1 spatial axes; the input [2, 5, 5] has 2", 23),
        ("x := I(4,4,3); x-RS((2,2),like=x)", "takes a size or like=a tensor, one of the two", 18),
        ("I(4,4,3)-RS()", "takes a size or like=a tensor", 10),
        ("x := I(4,4,3); x-RS(like=3)", "must be the name of a tensor", 26),
    ],
)
def test_graph_errors_have_a_caret(text, message, column, capsys):
    with pytest.raises(symparams.SymparamsError) as err:
        symparams.parse(text)
    assert message in err.value.message
    assert err.value.pos == column - 1, err.value.render()
    assert main([text]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_existing_texts_keep_their_meaning():
    # `name = chain` is still a definition, even one whose body starts with I (unused).
    net = symparams.parse("x = I(8)-H(4); I(8)-H(3)")
    assert not net.is_graph and net.params == 27 and net.tensors == ()
    assert "tensors" not in json.loads(symparams.report.data.to_json(net))


def test_table_sections_and_json(capsys):
    net = symparams.parse(G.FPN)
    lines = table(net).splitlines()
    assert ">> c2: [16, 32, 32], params 480" in lines
    assert ">> o2 (output): [24, 32, 32], params 5,208" in lines
    # The FPN's strided same convolutions are an API limit of PyTorch: noted under the totals.
    notes = [line for line in lines if line.startswith("Note: ")]
    assert notes and all("C(64,3,s=2,p=1) builds" in n or "builds" in n for n in notes)
    assert lines[-1 - len(notes)] == "Output shapes: o2 [24, 32, 32]; o3 [24, 16, 16]; o4 [24, 8, 8]"
    assert main([G.FPN, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["outputs"] == ["o2", "o3", "o4"]
    assert data["output_shape"] == [[24, 32, 32], [24, 16, 16], [24, 8, 8]]
    assert data["tensors"]["p3"]["params"] == 24 * 32 + 24 + 24 * 24 * 4 + 24
    assert sum(t["params"] for t in data["tensors"].values()) == data["params"] == net.params
    assert [row["index"] for row in data["layers"]] == [str(i) for i in range(len(data["layers"]))]


def test_analyses_on_a_graph(capsys):
    net = symparams.parse(G.TRANSFORMER)
    config = dict(d=512, h=8, ff=2048, L_enc=6, L_dec=6, V=1000)
    assert net.subs(**config, s=7, t=5).params == 45_677_544
    assert net.solve("V", 45_677_544, values={k: v for k, v in config.items() if k != "V"}).as_dict()["values"] == [[1000, 1000]]
    swept = net.sweep({"L_dec": [1, 6]}, values={k: v for k, v in config.items() if k != "L_dec"})
    assert swept.totals["params"].tolist()[1] == 45_677_544
    # MACs: the cross-attention projects the memory on its s positions, queries on t.
    cross = [r for r in net.walk() if r.kind == "CrossAttention"][0]
    assert str(cross.macs) == "2*d**2*s + 2*d**2*t + 2*d*s*t"
    assert net.memory("bfloat16") == 2 * net.params
    ideal = symparams.parse("enc := I(n,n,3)-C(8,3,s=2)-SEQ; I(t,8)-XA(2, memory=enc)", mode="ideal")
    assert ideal.mode == "ideal" and ideal.ideal_conditions
    assert main([G.TRANSFORMER, "--latex"]) == 0 and "XA" in capsys.readouterr().out
    assert main([G.FPN, "--markdown"]) == 0 and "**Output shapes:**" in capsys.readouterr().out
    assert main([G.FPN, "--macs", "--memory"]) == 0 and "Total MACs" in capsys.readouterr().out


# ---------------------------------------------------------------- against the frameworks
@pytest.mark.frameworks
@pytest.mark.parametrize("d, h, le, ld, V, ff", [(512, 8, 6, 6, 1000, 2048), (64, 4, 2, 3, 50, 128), (96, 3, 1, 4, 300, 80)])
def test_torch_transformer_family(d, h, le, ld, V, ff):
    import torch

    class Seq2Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.src, self.tgt = torch.nn.Embedding(V, d), torch.nn.Embedding(V, d)
            self.body = torch.nn.Transformer(d, h, le, ld, ff, batch_first=True)
            self.out = torch.nn.Linear(d, V)

        def forward(self, x, y):
            return self.out(self.body(self.src(x), self.tgt(y)))

    net = symparams.parse(G.TRANSFORMER)
    for s, t in [(7, 5), (3, 11)]:
        with torch.device("meta"):
            model = Seq2Seq()
            out = model(torch.zeros(2, s, dtype=torch.long), torch.zeros(2, t, dtype=torch.long))
        got = net.subs(d=d, h=h, ff=ff, L_enc=le, L_dec=ld, V=V, s=s, t=t)
        assert got.params == count(model)
        assert got.subtotal("enc") == count(model.body.encoder)
        assert got.output_shape == tuple(out.shape[1:])
        assert got.input_shape == [(s,), (t,)]


def _torchvision():
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torchvision

    return torchvision


@pytest.mark.frameworks
@pytest.mark.parametrize("name, text, size, heads", [
    ("googlenet", G.GOOGLENET, 224, {"aux1": "aux1", "aux2": "aux2"}),
    ("inception_v3", G.INCEPTION_V3, 299, {"aux": "AuxLogits"}),
], ids=["googlenet", "inception_v3"])
def test_torchvision_auxiliary_heads(name, text, size, heads):
    import torch

    with torch.device("meta"):
        model = getattr(_torchvision().models, name)(weights=None, aux_logits=True, init_weights=False).train()
        outs = model(torch.zeros(2, 3, size, size))
    net = symparams.parse(text)
    assert net.params == count(model)
    assert net.output_shape == [tuple(o.shape[1:]) for o in outs]
    for tensor, module in heads.items():
        assert net.subtotal(tensor) == count(getattr(model, module))


def _lraspp(size: tuple[int, int], classes: int = 21):
    """torchvision's lraspp_mobilenet_v3_large on meta: the model and its output shape."""
    import torch

    tv = _torchvision()
    with torch.device("meta"):
        model = tv.models.segmentation.lraspp_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=classes
        ).eval()
        with torch.no_grad():
            out = model(torch.zeros(1, 3, *size))["out"]
    return model, tuple(out.shape[1:])


LRASPP_SIZES = [(520, 520), (224, 224), (193, 257), (97, 131), (33, 47), (1, 1)]  # torchvision's min_size is 1


@pytest.mark.frameworks
def test_lraspp_mobilenet_v3_large():
    """The low-level tap (features[4], output stride 8) is a named tensor, the head's scale
    branch a gate [A * B], the resizes RS(like=low) and RS(like=x); at six sizes, in
    symbols too. 3,221,538 parameters, torchvision's published num_params."""
    import torch
    import vision_zoo as V

    model, shape = _lraspp((520, 520))
    net = symparams.parse(V.lraspp_text())
    assert (net.params, net.trainable, net.non_trainable) == (count(model), count(model), 0) == (3_221_538,) * 2 + (0,)
    assert net.output_shape == shape == (21, 520, 520) and net.conditions == ()
    backbone = model.backbone  # IntermediateLayerGetter over features[0..16]
    assert model.backbone.return_layers == {"4": "low", "16": "high"}
    assert net.subtotal("low") == sum(count(getattr(backbone, str(i))) for i in range(5))
    assert net.subtotal("low") + net.subtotal("high") == count(backbone)
    assert net.subtotal("head") == count(model.classifier.cbr) + count(model.classifier.scale)
    symbolic = symparams.parse(V.lraspp_text("h,w"))
    assert symbolic.params == 3_221_538 and symbolic.conditions == ()
    for h, w in LRASPP_SIZES[1:]:
        _, shape = _lraspp((h, w))
        assert symparams.parse(V.lraspp_text(f"{h},{w}")).output_shape == shape == (21, h, w)
        at = symbolic.subs(h=h, w=w)
        assert (at.params, at.output_shape) == (3_221_538, shape)
        # the head's maps: low at ⌈⌈⌈x/2⌉/2⌉/2⌉, high at output stride 16
        assert at.tensor_shape("low")[:2] == tuple(-(-x // 8) for x in (h, w))
        assert at.tensor_shape("high")[:2] == tuple(-(-x // 16) for x in (h, w))
    # MACs are FlopCounterMode's FLOPs / 2 (the resizes and the gate's product count none).
    from torch.utils.flop_counter import FlopCounterMode

    for h, w in [(520, 520), (193, 257)]:
        with FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, 3, h, w, device="meta"))
        assert 2 * symbolic.subs(h=h, w=w).macs == counter.get_total_flops()
    other, _ = _lraspp((64, 64), classes=5)
    assert symparams.parse(V.lraspp_text("64,64", classes=5)).params == count(other)


@pytest.mark.frameworks
def test_lraspp_example():
    text = (EXAMPLES / "lraspp_mobilenet_v3_large.arch").read_text()
    import vision_zoo as V

    model, shape = _lraspp((520, 520))
    net = symparams.parse(text)
    assert (net.params, net.output_shape, net.conditions) == (count(model), shape, ())
    assert net.params == 3_221_538 and "3,221,538 parameters" in text
    assert [net.subtotal(n) for n in ("low", "high", "head")] == [
        symparams.parse(V.lraspp_text()).subtotal(n) for n in ("low", "high", "head")
    ]


@pytest.mark.frameworks
@pytest.mark.parametrize("size, like", [((9, 13), (5, 7)), ((6, 6), (17, 3)), ((4, 4, 4), (2, 3, 5))])
def test_resize_like_a_tensor_matches_interpolate(size, like):
    """RS(like=t) is F.interpolate(x, size=t.shape[2:]), on images and volumes."""
    import torch
    from torch.nn import functional as F

    text = f"t := I({','.join(map(str, like))},3); x := I({','.join(map(str, size))},8); y := x-C(4,1)-RS(like=t); y, t"
    net = symparams.parse(text)
    x, t = torch.zeros(1, 4, *size), torch.zeros(1, 3, *like)
    assert net.output_shape[0] == tuple(F.interpolate(x, size=t.shape[2:]).shape[1:])
    assert net.params == 8 * 4 + 4 and net.macs == 8 * 4 * math.prod(size)


@pytest.mark.frameworks
def test_fpn_torch():
    import torch
    from torch import nn

    class FPN(nn.Module):
        def __init__(self):
            super().__init__()
            stage = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3, 2, 1), nn.BatchNorm2d(o), nn.ReLU())  # noqa: E731
            self.b2, self.b3, self.b4 = stage(3, 16), stage(16, 32), stage(32, 64)
            self.l2, self.l3, self.l4 = nn.Conv2d(16, 24, 1), nn.Conv2d(32, 24, 1), nn.Conv2d(64, 24, 1)
            self.u4, self.u3 = nn.ConvTranspose2d(24, 24, 2, 2), nn.ConvTranspose2d(24, 24, 2, 2)
            self.s2, self.s3, self.s4 = (nn.Conv2d(24, 24, 3, padding=1) for _ in range(3))

        def forward(self, x):
            c2 = self.b2(x)
            c3 = self.b3(c2)
            c4 = self.b4(c3)
            p4 = self.l4(c4)
            p3 = self.l3(c3) + self.u4(p4)
            p2 = self.l2(c2) + self.u3(p3)
            return self.s2(p2), self.s3(p3), self.s4(p4)

    model = FPN()
    outs = model(torch.zeros(1, 3, 64, 64))
    net = symparams.parse(G.FPN)
    assert net.params == count(model) == 46_848
    assert net.output_shape == [tuple(o.shape[1:]) for o in outs]


@pytest.mark.frameworks
def test_fpn_keras():
    import keras

    L = keras.layers
    x = keras.Input((64, 64, 3))

    def stage(t, n):
        return L.ReLU()(L.BatchNormalization()(L.Conv2D(n, 3, strides=2, padding="same")(t)))

    c2 = stage(x, 16)
    c3 = stage(c2, 32)
    c4 = stage(c3, 64)
    p4 = L.Conv2D(24, 1)(c4)
    p3 = L.Add()([L.Conv2D(24, 1)(c3), L.Conv2DTranspose(24, 2, strides=2)(p4)])
    p2 = L.Add()([L.Conv2D(24, 1)(c2), L.Conv2DTranspose(24, 2, strides=2)(p3)])
    model = keras.Model(x, [L.Conv2D(24, 3, padding="same")(p) for p in (p2, p3, p4)])
    net = symparams.parse(G.FPN, convention="keras")
    assert net.params == model.count_params() == 47_072
    assert net.non_trainable == sum(int(w.numpy().size) for w in model.non_trainable_weights)
    assert net.output_shape == [tuple(o.shape[1:]) for o in model.outputs]


def _transformers():
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import transformers

    return transformers


def _on_meta(build):
    import torch

    with torch.device("meta"):
        return build()


@pytest.mark.frameworks
def test_bart_base():
    tf = _transformers()
    config = tf.BartConfig(
        vocab_size=50265, d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12,
        decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072, max_position_embeddings=1024,
        scale_embedding=False, tie_word_embeddings=True,
    )
    model = _on_meta(lambda: tf.BartForConditionalGeneration(config))
    net = symparams.parse(G.BART_BASE)
    assert net.params == count(model) == 139_420_416
    assert net.subtotal("enc") == count(model.model.encoder)


def _t5_small():
    tf = _transformers()
    config = tf.T5Config(
        vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_decoder_layers=6, num_heads=8,
        relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="relu",
        tie_word_embeddings=True,
    )
    return _on_meta(lambda: tf.T5ForConditionalGeneration(config))


@pytest.mark.frameworks
def test_t5_small_without_its_relative_bias():
    model = _t5_small()
    relative = [m.relative_attention_bias.weight.numel() for m in model.modules() if getattr(m, "has_relative_attention_bias", False)]
    assert relative == [32 * 8, 32 * 8]
    net = symparams.parse(G.T5_SMALL_NO_RELATIVE_BIAS)
    assert net.params == count(model) - sum(relative) == 60_506_624 - 512


@pytest.mark.frameworks
def test_t5_small_example():
    text = (EXAMPLES / "t5_small.arch").read_text()
    model = _t5_small()
    net = symparams.parse(text)
    assert net.params == count(model) == 60_506_624 and "60,506,624 parameters" in text
    assert net.subtotal("enc") == count(model.encoder) == 35_330_816


@pytest.mark.frameworks
def test_whisper_tiny_with_key_biases():
    tf = _transformers()
    config = tf.WhisperConfig(
        vocab_size=51865, d_model=384, encoder_layers=4, decoder_layers=4, encoder_attention_heads=6,
        decoder_attention_heads=6, encoder_ffn_dim=1536, decoder_ffn_dim=1536, num_mel_bins=80,
        max_source_positions=1500, max_target_positions=448, tie_word_embeddings=True,
    )
    model = _on_meta(lambda: tf.WhisperForConditionalGeneration(config))
    unbiased = [m.out_features for n, m in model.named_modules() if n.endswith("k_proj") and m.bias is None]
    assert len(unbiased) == 4 + 2 * 4  # encoder self-attention, decoder self- and cross-attention
    net = symparams.parse(G.WHISPER_TINY_KEY_BIASES)
    assert net.params - sum(unbiased) == count(model) == 37_760_640
    assert net.subtotal("enc") - 4 * 384 == count(model.model.encoder)
    # Written as it is: q, v and output biased, k not (MHA and XA bias=qvo).
    exact = symparams.parse(G.WHISPER_TINY)
    assert exact.params == count(model) == 37_760_640
    assert exact.subtotal("enc") == count(model.model.encoder)


def _clip():
    tf = _transformers()
    config = tf.CLIPConfig(
        text_config=dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                         num_attention_heads=8, max_position_embeddings=77, projection_dim=512),
        vision_config=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                           image_size=224, patch_size=32, projection_dim=512),
        projection_dim=512, logit_scale_init_value=2.6592,
    )
    return _on_meta(lambda: tf.CLIPModel(config))


@pytest.mark.frameworks
def test_clip_towers():
    model = _clip()
    net = symparams.parse(G.CLIP_TOWERS)
    assert net.subtotal("text") == count(model.text_model) + count(model.text_projection)
    assert net.subtotal("image") == count(model.vision_model) + count(model.visual_projection)
    assert net.params + model.logit_scale.numel() == count(model) == 151_277_313
    assert net.output_shape == [(512,), (512,)]


@pytest.mark.frameworks
def test_clip_example():
    text = (EXAMPLES / "clip_vit_b32.arch").read_text()
    model = _clip()
    net = symparams.parse(text)
    assert net.params == count(model) == 151_277_313 and "151,277,313 parameters" in text
    assert net.subtotal("text") == count(model.text_model) + count(model.text_projection)
    assert net.output_shape == [(512,), (512,)]


def test_transformer_base_example():
    net = symparams.parse((EXAMPLES / "transformer_base.arch").read_text())
    d, ff, V = 512, 2048, 37000
    encoder_layer = (4 * d * d + 4 * d) + (2 * d * ff + ff + d) + 4 * d
    decoder_layer = encoder_layer + (4 * d * d + 4 * d) + 2 * d
    assert net.params == 6 * encoder_layer + 6 * decoder_layer + V * d == 63_082_496
    assert net.outputs == ("output",) and net.subtotal("enc") == 6 * encoder_layer + V * d


# ---------------------------------------------------------------- NASNet: cells that read the two cells before
def _keras_nasnet(large: bool):
    # keras.applications.NASNetMobile refuses the torch backend ("outstanding bug"); the
    # private NASNet() builds the same graph from NASNetMobile's (NASNetLarge's) arguments.
    from keras.src.applications.nasnet import NASNet

    if large:
        args = dict(penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True, default_size=331)
        return NASNet((331, 331, 3), filter_multiplier=2, weights=None, **args)
    args = dict(penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False, default_size=224)
    return NASNet((224, 224, 3), filter_multiplier=2, weights=None, **args)


def _check_nasnet(large: bool, file: str, published: tuple[int, int]):
    from nasnet_text import nasnet_text

    text = (EXAMPLES / file).read_text()
    assert text == nasnet_text(large)
    net = symparams.parse(text, convention="keras")
    model = _keras_nasnet(large)
    frozen = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    assert (net.params, net.non_trainable) == (model.count_params(), frozen) == published
    assert net.output_shape == tuple(model.output.shape[1:])


@pytest.mark.frameworks
def test_keras_nasnet_mobile():
    _check_nasnet(False, "nasnet_mobile.arch", (5_326_716, 36_738))


@pytest.mark.frameworks
@pytest.mark.zoo
def test_keras_nasnet_large():
    _check_nasnet(True, "nasnet_large.arch", (88_949_818, 196_668))


@pytest.mark.parametrize("name", ["GOOGLENET", "INCEPTION_V3", "FPN", "BART_BASE", "CLIP_TOWERS"])
@pytest.mark.parametrize("convention", ["torch", "keras"])
def test_numeric_build_equals_symbolic(name, convention):
    text = getattr(G, name)
    fast = symparams.parse(text, convention=convention, numeric=True)
    slow = symparams.parse(text, convention=convention)
    assert (fast.params, fast.trainable, fast.macs) == (slow.params, slow.trainable, slow.macs)
    assert fast.output_shape == slow.output_shape and fast.tensors == slow.tensors
    assert [r.index for r in fast.walk()] == [r.index for r in slow.walk()]


def test_graph_markdown_and_latex_name_each_tensor():
    from symparams.report.latex import latex_table
    from symparams.report.markup import markdown

    net = symparams.parse("x := I(4); y := x-H(2); z := x-H(3); y, z")
    assert "|  | **y** (output) |  | `[2]` | 10 |" in markdown(net).splitlines()
    assert r"\multicolumn{4}{@{}l}{\textbf{z} (output): $[3]$, $15$ parameters} \\" in latex_table(net).splitlines()
    chain = symparams.parse("I(4)-H(2)")
    assert "**" not in markdown(chain).split("\n\n")[0] and "multicolumn" not in latex_table(chain)


@pytest.mark.frameworks
@pytest.mark.parametrize("c, m, h, k", [(32, 32, 4, None), (48, 20, 6, None), (24, 40, 3, 16)])
def test_cross_attention_against_torch_and_keras(c, m, h, k):
    import keras
    import torch

    text = f"mem := I(7,{m}); I(5,{c})-XA({h}, memory=mem{'' if k is None else f', k={k}'})"
    head = c // h if k is None else k
    keras_layer = keras.layers.MultiHeadAttention(num_heads=h, key_dim=head)
    out = keras_layer(keras.ops.zeros((1, 5, c)), keras.ops.zeros((1, 7, m)))
    assert symparams.parse(text, convention="keras").params == keras_layer.count_params()
    assert symparams.parse(text, convention="keras").output_shape == tuple(out.shape[1:])
    if k is None:  # nn.MultiheadAttention's heads are always c/h wide
        torch_layer = torch.nn.MultiheadAttention(c, h, kdim=m, vdim=m, batch_first=True)
        out, _ = torch_layer(torch.zeros(1, 5, c), torch.zeros(1, 7, m), torch.zeros(1, 7, m))
        assert symparams.parse(text).params == count(torch_layer)
        assert symparams.parse(text).output_shape == tuple(out.shape[1:])


@pytest.mark.frameworks
def test_cross_attention_macs_equal_flop_counter():
    """XA's MACs are FlopCounterMode's FLOPs / 2 for nn.MultiheadAttention with kdim/vdim
    (queries on t positions, keys and values on the memory's s, then q·kᵀ and attn·v)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    t, s, d, m, h = 7, 5, 32, 24, 4
    with torch.device("meta"):
        attn = torch.nn.MultiheadAttention(d, h, kdim=m, vdim=m, batch_first=True)
        query, memory = torch.zeros(1, t, d), torch.zeros(1, s, m)
        with FlopCounterMode(display=False) as counter:
            attn(query, memory, memory, need_weights=False)
    net = symparams.parse(f"mem := I({s},{m}); I({t},{d})-XA({h}, memory=mem)")
    assert net.params == sum(p.numel() for p in attn.parameters())
    assert 2 * net.macs == counter.get_total_flops()
