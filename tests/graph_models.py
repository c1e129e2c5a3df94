"""Graph models written in the language (README "Graphs"), shared by tests/test_graphs.py
and tests/test_yolo.py."""

import math

# PyTorch's nn.Transformer (post-norm, relu, final norms) with two embeddings and an output
# layer: an encoder-decoder family in d, h, ff, L_enc, L_dec, V, on lengths s and t.
TRANSFORMER = """\
enc_layer = [MHA(h) + id]-LN-[H(ff)-relu-H(d) + id]-LN
dec_layer = [MHA(h) + id]-LN-[XA(h, memory=enc) + id]-LN-[H(ff)-relu-H(d) + id]-LN
src := I(s)-E(V,d)
enc := src-enc_layer*L_enc-LN
I(t)-E(V,d)-dec_layer*L_dec-LN-O(V)
"""

# torchvision googlenet(aux_logits=True): BasicConv2d is conv without bias, BatchNorm, relu;
# torchvision's "5x5" branch is a 3x3 conv (a known quirk kept for its weights).
GOOGLENET = """\
cv(n, f, p) = C(n, f, p=p, bias=false)-BN-relu
pool = P(3, s=2, ceil=true)
inc(a, b1, b2, c1, c2, d) = [cv(a,1,0) | cv(b1,1,0)-cv(b2,3,1) | cv(c1,1,0)-cv(c2,3,1) | P(3,s=1,p=1,ceil=true)-cv(d,1,0)]
aux = AAP(4)-cv(128,1,0)-F-H(1024)-relu-D(0.7)-O(1000)
a4 := I(224,224,3)-C(64,7,s=2,p=3,bias=false)-BN-relu-pool-cv(64,1,0)-cv(192,3,1)-pool
      -inc(64,96,128,16,32,32)-inc(128,128,192,32,96,64)-pool-inc(192,96,208,16,48,64)
aux1 := a4-aux
d4 := a4-inc(160,112,224,24,64,64)-inc(128,128,256,24,64,64)-inc(112,144,288,32,64,64)
aux2 := d4-aux
logits := d4-inc(256,160,320,32,128,128)-P(2,s=2,ceil=true)-inc(256,160,320,32,128,128)
          -inc(384,192,384,48,128,128)-AAP(1)-F-D(0.2)-O(1000)
logits, aux2, aux1
"""

# torchvision inception_v3(aux_logits=True): the auxiliary head reads Mixed_6e.
INCEPTION_V3 = """\
cv(n, f, p) = C(n, f, p=p, bias=false)-BN-relu
cv2(n, f) = C(n, f, s=2, bias=false)-BN-relu
mixA(pf) = [cv(64,1,0) | cv(48,1,0)-cv(64,5,2) | cv(64,1,0)-cv(96,3,1)-cv(96,3,1) | A(3,s=1,p=1)-cv(pf,1,0)]
mixB = [cv2(384,3) | cv(64,1,0)-cv(96,3,1)-cv2(96,3) | P(3,s=2)]
mixC(c7) = [cv(192,1,0)
          | cv(c7,1,0)-cv(c7,(1,7),(0,3))-cv(192,(7,1),(3,0))
          | cv(c7,1,0)-cv(c7,(7,1),(3,0))-cv(c7,(1,7),(0,3))-cv(c7,(7,1),(3,0))-cv(192,(1,7),(0,3))
          | A(3,s=1,p=1)-cv(192,1,0)]
mixD = [cv(192,1,0)-cv2(320,3) | cv(192,1,0)-cv(192,(1,7),(0,3))-cv(192,(7,1),(3,0))-cv2(192,3) | P(3,s=2)]
split = [cv(384,(1,3),(0,1)) | cv(384,(3,1),(1,0))]
mixE = [cv(320,1,0) | cv(384,1,0)-split | cv(448,1,0)-cv(384,3,1)-split | A(3,s=1,p=1)-cv(192,1,0)]
m6e := I(299,299,3)-cv2(32,3)-cv(32,3,0)-cv(64,3,1)-P(3,s=2)-cv(80,1,0)-cv(192,3,0)-P(3,s=2)
       -mixA(32)-mixA(64)-mixA(64)-mixB-mixC(128)-mixC(160)-mixC(160)-mixC(192)
aux := m6e-A(5,s=3)-cv(128,1,0)-cv(768,5,0)-AAP(1)-F-O(1000)
logits := m6e-mixD-mixE-mixE-AAP(1)-D(0.5)-F-O(1000)
logits, aux
"""

# A small feature pyramid (Lin et al. 2017) by hand: three stride-2 stages, 1x1 laterals,
# a top-down path upsampled by learned 2x2 transposed convs, 3x3 output convs.
FPN = """\
c2 := I(64,64,3)-C(16,3,s=2,p=same)-BN-relu
c3 := c2-C(32,3,s=2,p=same)-BN-relu
c4 := c3-C(64,3,s=2,p=same)-BN-relu
p4 := c4-C(24,1)
p3 := [c3-C(24,1) + p4-T(24,2,s=2)]
p2 := [c2-C(24,1) + p3-T(24,2,s=2)]
o2 := p2-C(24,3,p=same)
o3 := p3-C(24,3,p=same)
o4 := p4-C(24,3,p=same)
o2, o3, o4
"""

# facebook/bart-base: shared embedding (encoder, decoder, tied head), 1024 + 2 learned
# positions per stack, layernorm_embedding, post-norm layers with every bias.
BART_BASE = """\
enc_layer = [MHA(12) + id]-LN-[H(3072)-gelu-H(768) + id]-LN
dec_layer = [MHA(12) + id]-LN-[XA(12, memory=enc) + id]-LN-[H(3072)-gelu-H(768) + id]-LN
enc := I(s)-E(50265,768)-PE(1026)-LN-enc_layer*6
I(t)-E(50265,768,tied=true)-PE(1026)-LN-dec_layer*6-O(50265,bias=false,tied=true)
"""

# google-t5/t5-small without its two relative-position bias tables (32 buckets x 8 heads, in
# block 0 of each stack): they need RB(32,8) (branch i15); T5_SMALL below has them.
T5_SMALL_NO_RELATIVE_BIAS = """\
ff = RMS-H(2048,bias=false)-relu-H(512,bias=false)
enc_block = [RMS-MHA(8,bias=false) + id]-[ff + id]
dec_block = [RMS-MHA(8,bias=false) + id]-[RMS-XA(8, memory=enc, bias=false) + id]-[ff + id]
enc := I(s)-E(32128,512)-enc_block*6-RMS
I(t)-E(32128,512,tied=true)-dec_block*6-RMS-O(32128,bias=false,tied=true)
"""

# openai/whisper-tiny written with a bias on every attention key projection (the real model
# has none there: k_proj bias=False), and as it is, with bias=qvo on every MHA and XA.
WHISPER_TINY_KEY_BIASES = """\
mlp = [LN-H(1536)-gelu-H(384) + id]
enc := I(3000,80)-C(384,3,p=1)-gelu-C(384,3,s=2,p=1)-gelu-PE(1500)-([LN-MHA(6) + id]-mlp)*4-LN
I(t)-E(51865,384)-PE(448)-([LN-MHA(6) + id]-[LN-XA(6, memory=enc) + id]-mlp)*4-LN-O(51865,bias=false,tied=true)
"""
WHISPER_TINY = WHISPER_TINY_KEY_BIASES.replace("MHA(6)", "MHA(6,bias=qvo)").replace(
    "XA(6, memory=enc)", "XA(6, memory=enc, bias=qvo)"
)

# openai/clip-vit-base-patch32, both towers and their projections; the logit scale (one
# parameter) needs W(1) (branch i15): examples/clip_vit_b32.arch has it.
CLIP_TOWERS = """\
text := I(77)-E(49408,512)-PE(77)-TB(8,2048)*12-LN-FIRST-H(512,bias=false)
image := I(224,224,3)-C(768,32,s=32,bias=false)-SEQ-CLS-PE(50)-LN-TB(12,3072)*12-FIRST-LN-H(512,bias=false)
image, text
"""


# ultralytics YOLOv8 (ultralytics/cfg/models/v8/yolov8.yaml), written from the YAML's table:
# [from, repeats, module, args]; a layer read by a later `from` index is a named tensor.
YOLOV8_SCALES = {  # depth, width, max_channels
    "n": (0.33, 0.25, 1024), "s": (0.33, 0.50, 1024), "m": (0.67, 0.75, 768),
    "l": (1.00, 1.00, 512), "x": (1.00, 1.25, 512),
}  # fmt: skip
YOLOV8_BACKBONE = [(-1, 1, "Conv", (64, 3, 2)), (-1, 1, "Conv", (128, 3, 2)), (-1, 3, "C2f", (128, True)),
                   (-1, 1, "Conv", (256, 3, 2)), (-1, 6, "C2f", (256, True)), (-1, 1, "Conv", (512, 3, 2)),
                   (-1, 6, "C2f", (512, True)), (-1, 1, "Conv", (1024, 3, 2)), (-1, 3, "C2f", (1024, True)),
                   (-1, 1, "SPPF", (1024, 5))]  # fmt: skip
YOLOV8_HEAD = [(-1, 1, "Upsample", ()), ((-1, 6), 1, "Concat", ()), (-1, 3, "C2f", (512, False)),
               (-1, 1, "Upsample", ()), ((-1, 4), 1, "Concat", ()), (-1, 3, "C2f", (256, False)),
               (-1, 1, "Conv", (256, 3, 2)), ((-1, 12), 1, "Concat", ()), (-1, 3, "C2f", (512, False)),
               (-1, 1, "Conv", (512, 3, 2)), ((-1, 9), 1, "Concat", ()), (-1, 3, "C2f", (1024, False)),
               ((15, 18, 21), 1, "Detect", ())]  # fmt: skip
YOLO_COMMON = """\
cv(n, f, s) = C(n, f, s=s, p=(f-1)/2, bias=false)-BN-silu
b(c) = [cv(c,3,1)-cv(c,3,1) + id]
bh(c) = cv(c,3,1)-cv(c,3,1)
pool = P(5,s=1,p=2)
sppf(c, o) = C(c/2,1,bias=false)-BN-[id | pool-[id | pool-[id | pool]]]-cv(o,1,1)
"""


def _ceil_to(x: float, divisor: int = 8) -> int:
    """ultralytics.utils.ops.make_divisible: the next multiple (math.ceil)."""
    return math.ceil(x / divisor) * divisor


def _c2f(o: int, n: int, shortcut: bool) -> str:
    """C2f(c1, o, n, shortcut): cv1 to 2c (c = o/2), chunk in two, n Bottlenecks each on
    the last chunk appended (`y.extend(m(y[-1]) for m in self.m)`), concat, cv2 to o."""
    block = f"{'b' if shortcut else 'bh'}({o // 2})"
    tail = f"[id | {block}]"
    for _ in range(n - 1):
        tail = f"[id | {block}-{tail}]"
    return f"cv({o},1,1)-[CHUNK(2,0) | CHUNK(2,1)-{tail}]-cv({o},1,1)"


def yolov8_text(scale: str = "n", size: str = "640,640", nc: int = 80, reg_max: int = 16) -> str:
    """DetectionModel("yolov8{scale}.yaml") as parse_model builds it: repeats
    max(round(n·depth), 1), widths make_divisible(min(c, max_channels)·width, 8); the Detect
    head per level [box | cls] (cv2: Conv-Conv-Conv2d(4·reg_max), cv3: Conv-Conv-Conv2d(nc)),
    its DFL's fixed 1x16 conv weight W(1,reg_max,1,1,trainable=false); three outputs, the
    training-mode levels P3/8, P4/16, P5/32."""
    depth, width, max_channels = YOLOV8_SCALES[scale]
    layers = YOLOV8_BACKBONE + YOLOV8_HEAD
    read = {j for f, *_ in layers if isinstance(f, tuple) for j in f if j != -1}
    lines, chain, channels = [YOLO_COMMON + f"x := I({size},3)"], "x", []
    names = {}
    for i, (frm, n, module, args) in enumerate(layers):
        n = max(round(n * depth), 1) if n > 1 else n
        if module in ("Conv", "C2f", "SPPF"):
            c2 = _ceil_to(min(args[0], max_channels) * width)
        if module == "Conv":
            chain += f"-cv({c2},{args[1]},{args[2]})"
        elif module == "C2f":
            chain += "-" + _c2f(c2, n, args[1])
        elif module == "SPPF":
            chain += f"-sppf({channels[-1]},{c2})"
        elif module == "Upsample":  # nn.Upsample(None, 2, "nearest")
            c2 = channels[-1]
            chain += "-UP(2)"
        elif module == "Concat":
            other = names[frm[1]]
            c2 = channels[-1] + channels[frm[1]]
            chain += f"-[id | {other}]"
        else:  # Detect
            ch = [channels[j] for j in frm]
            box, cls = max(16, ch[0] // 4, 4 * reg_max), max(ch[0], min(nc, 100))
            outs = []
            for level, j in enumerate(frm):
                head = f"[cv({box},3,1)-cv({box},3,1)-C({4 * reg_max},1) | cv({cls},3,1)-cv({cls},3,1)-C({nc},1)]"
                dfl = f"-W(1,{reg_max},1,1,trainable=false)" if level == 0 else ""  # the Detect's DFL, once
                lines.append(f"o{level + 3} := {names[j]}-{head}{dfl}")
                outs.append(f"o{level + 3}")
            lines.append(", ".join(outs))
            break
        channels.append(c2)
        if i in read:
            names[i] = f"l{i}"
            lines.append(f"l{i} := {chain}")
            chain = f"l{i}"
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- random graphs (hypothesis)
def random_graph(draw) -> str:
    """A random graph text (call with hypothesis's `draw`, e.g. inside st.composite): one
    or two sequence inputs, lines that start from a named tensor or join two, residual and
    concatenating branches that read a tensor, cross-attention (XA, with its options, also
    through a definition that takes the memory's name) and a list of outputs. Every tensor
    is read or returned, so each text is valid."""
    from hypothesis import strategies as st

    tensors: dict[str, tuple[int, int]] = {}  # name -> (t, c)
    read: set[str] = set()
    lines: list[str] = []
    definitions: list[str] = []
    for i in range(draw(st.integers(1, 2))):
        t, c = draw(st.sampled_from([3, 4, 5])), draw(st.sampled_from([4, 8]))
        tensors[f"in{i}"] = (t, c)
        lines.append(f"in{i} := I({t},{c})")

    def pick(same=None):
        names = [n for n, s in tensors.items() if same is None or s == same]
        return draw(st.sampled_from(names)) if names else None

    for j in range(draw(st.integers(1, 5))):
        src = pick()
        t, c = tensors[src]
        kind = draw(st.sampled_from(["chain", "concat", "residual", "join", "xa", "attend"]))
        name = f"n{j}"
        if kind == "chain":
            n = draw(st.sampled_from([4, 8]))
            tail = draw(st.sampled_from(["", "-relu", "-LN", "-RMS-gelu"]))
            body, shape = f"{src}-H({n}){tail}", (t, n)
        elif kind == "concat":
            other = pick((t, c)) if draw(st.booleans()) else None
            if other is None or other == src:
                body, shape = f"{src}-[id | H(4)]", (t, c + 4)
            else:
                body, shape = f"{src}-[id | {other}-H(4)]", (t, c + 4)
                read.add(other)
        elif kind == "residual":
            other = pick((t, c))
            body, shape = f"{src}-[id + {other}]", (t, c)
            read.add(other)
        elif kind == "join":
            other = pick()
            if tensors[other][0] != t:
                body, shape = f"{src}-H({c})", (t, c)
            else:
                body, shape = f"[{src} | {other}]-H(4)", (t, 4)
                read.add(other)
        else:
            memory = pick()
            h = draw(st.sampled_from([h for h in (1, 2, 4) if c % h == 0]))
            options = draw(st.sampled_from(["", ", bias=false", ", bias=qvo", ", k=3", f", kv={max(h // 2, 1)}"]))
            if kind == "xa":
                body = f"{src}-[LN-XA({h}, memory={memory}{options}) + id]"
            else:
                if not definitions:
                    definitions.append("attend(m) = [RMS-XA(2, memory=m, bias=qv) + id]-H(8)")
                body = f"{src}-H(8)-attend({memory})"
                c = 8
            shape = (t, c)
            read.add(memory)
        read.add(src)
        tensors[name] = shape
        lines.append(f"{name} := {body}")
    outputs = [n for n in tensors if n not in read]
    for n in list(outputs):
        if n.startswith("in"):  # an input nobody read: give it a line of its own
            outputs.remove(n)
            lines.append(f"from_{n} := {n}-H(4)")
            outputs.append(f"from_{n}")
    return "\n".join(definitions + lines + [", ".join(outputs)])
