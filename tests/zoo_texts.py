"""symparams texts of the torchvision and keras.applications vision models, written from the
frameworks' source (torchvision 0.28 models/*.py, keras 3 applications/*.py) without asking
either framework anything. tests/test_zoo.py builds the real models and compares.

Each function returns the text of one model; `backbone=True` drops the head (global pool
and classifier) and takes the input size as written (`I(h,w,3)` for symbols).
"""

from __future__ import annotations

# ---------------------------------------------------------------- shared definitions
CBN = "cbn(n, f, s, p) = C(n, f, s=s, p=p, bias=false)-BN\n"


def _input(size, channels=3, default=(224, 224)):
    h, w = size if size is not None else default
    return f"I({h},{w},{channels})"


# ---------------------------------------------------------------- AlexNet, VGG
def alexnet() -> str:
    return (
        "I(224,224,3)-C(64,11,s=4,p=2)-relu-P(3,s=2)-C(192,5,p=2)-relu-P(3,s=2)"
        "-C(384,3,p=1)-relu-C(256,3,p=1)-relu-C(256,3,p=1)-relu-P(3,s=2)-AAP(6)"
        "-D(0.5)-H(4096)-relu-D(0.5)-H(4096)-relu-O(1000)"
    )


VGG_CFGS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ],
}


def vgg(depth: int, bn: bool = False, keras: bool = False) -> str:
    """torchvision vgg{depth}[_bn] (features-AAP(7)-classifier); keras VGG16/19 (Flatten, no pool)."""
    parts = ["I(224,224,3)"]
    for v in VGG_CFGS[depth]:
        parts.append("P(2)" if v == "M" else f"C({v},3,p=1)" + ("-BN" if bn else "") + "-relu")
    if not keras:
        parts.append("AAP(7)")
    parts += ["H(4096)-relu-D(0.5)-H(4096)-relu-D(0.5)-O(1000)"]
    return "-".join(parts)


# ---------------------------------------------------------------- ResNet family
RESNET_LAYERS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def resnet(
    depth: int,
    groups: int = 1,
    width_per_group: int = 64,
    dilate: tuple[bool, bool, bool] = (False, False, False),
    size=None,
    backbone: bool = False,
) -> str:
    """torchvision resnet / resnext / wide_resnet (v1.5: stride on the 3×3); `dilate` as
    replace_stride_with_dilation (segmentation backbones)."""
    bottleneck = depth >= 50
    expansion = 4 if bottleneck else 1
    defs = [
        "conv(n, f, s, p, d, g) = C(n, f, s=s, p=p, d=d, g=g, bias=false)-BN",
        "basic(k, s, d0, d) = conv(k,3,s,d0,d0,1)-relu-conv(k,3,1,d,d,1)",
        "neck(m, k, s, d, g) = conv(m,1,1,0,1,1)-relu-conv(m,3,s,d,d,g)-relu-conv(k,1,1,0,1,1)",
    ]
    chain = [_input(size), "conv(64,7,2,3,1,1)-relu-P(3,s=2,p=1)"]
    inplanes, dilation = 64, 1
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), RESNET_LAYERS[depth])):
        stride = 1 if stage == 0 else 2
        previous = dilation
        if stage > 0 and dilate[stage - 1]:
            dilation *= stride
            stride = 1
        out = planes * expansion
        width = int(planes * (width_per_group / 64.0)) * groups
        for b in range(blocks):
            s = stride if b == 0 else 1
            d = previous if b == 0 else dilation
            if bottleneck:
                body = f"neck({width},{out},{s},{d},{groups})"
            else:
                body = f"basic({out},{s},{d},{d})"
            if b == 0 and (stride != 1 or inplanes != out):
                chain.append(f"[{body} + conv({out},1,{stride},0,1,1)]-relu")
            else:
                chain.append(f"[{body} + id]-relu")
            inplanes = out
    if not backbone:
        chain.append("GAP-O(1000)")
    return "\n".join(defs) + "\n" + "\n  -".join(chain)


# ---------------------------------------------------------------- DenseNet
DENSENET = {121: (32, (6, 12, 24, 16), 64), 161: (48, (6, 12, 36, 24), 96), 169: (32, (6, 12, 32, 32), 64),
            201: (32, (6, 12, 48, 32), 64)}  # fmt: skip


def densenet(depth: int, size=None, backbone: bool = False, keras: bool = False) -> str:
    """torchvision densenet (features end with norm5; the head relu-GAP-Linear). Keras
    DenseNet has the same weights (ZeroPadding + valid = torch's padding)."""
    growth, blocks, init = DENSENET[depth]
    defs = [
        f"layer(k) = [id | BN-relu-C({4 * growth},1,bias=false)-BN-relu-C(k,3,p=1,bias=false)]",
        "transition(n) = BN-relu-C(n,1,bias=false)-A(2)",
    ]
    chain = [_input(size), f"C({init},7,s=2,p=3,bias=false)-BN-relu-P(3,s=2,p=1)"]
    c = init
    for i, n in enumerate(blocks):
        chain.append(f"layer({growth})*{n}")
        c += n * growth
        if i < len(blocks) - 1:
            chain.append(f"transition({c // 2})")
            c //= 2
    chain.append("BN")
    if not backbone:
        chain.append("relu-GAP-O(1000)")
    return "\n".join(defs) + "\n" + "\n  -".join(chain)


# ---------------------------------------------------------------- SqueezeNet, GoogLeNet, Inception v3
def squeezenet(version: str) -> str:
    fire = "fire(s, e) = C(s,1)-relu-[C(e,1)-relu | C(e,3,p=1)-relu]\npool = P(3,s=2,ceil=true)\n"
    if version == "1_0":
        body = ("C(96,7,s=2)-relu-pool-fire(16,64)-fire(16,64)-fire(32,128)-pool"
                "-fire(32,128)-fire(48,192)-fire(48,192)-fire(64,256)-pool-fire(64,256)")  # fmt: skip
    else:
        body = ("C(64,3,s=2)-relu-pool-fire(16,64)*2-pool-fire(32,128)*2-pool"
                "-fire(48,192)*2-fire(64,256)*2")  # fmt: skip
    return fire + f"I(224,224,3)-{body}-D(0.5)-C(1000,1)-relu-AAP(1)-F"


def googlenet() -> str:
    """torchvision googlenet(aux_logits=False): BasicConv2d = conv (no bias)-BN-relu; the
    '5×5' branch is a 3×3."""
    return (
        "b(n, f, p) = C(n, f, p=p, bias=false)-BN-relu\n"
        "inc(a, r3, c3, r5, c5, pp) = [b(a,1,0) | b(r3,1,0)-b(c3,3,1) | b(r5,1,0)-b(c5,3,1)"
        " | P(3,s=1,p=1,ceil=true)-b(pp,1,0)]\n"
        "I(224,224,3)-C(64,7,s=2,p=3,bias=false)-BN-relu-P(3,s=2,ceil=true)-b(64,1,0)-b(192,3,1)"
        "-P(3,s=2,ceil=true)-inc(64,96,128,16,32,32)-inc(128,128,192,32,96,64)-P(3,s=2,ceil=true)"
        "-inc(192,96,208,16,48,64)-inc(160,112,224,24,64,64)-inc(128,128,256,24,64,64)"
        "-inc(112,144,288,32,64,64)-inc(256,160,320,32,128,128)-P(2,s=2,ceil=true)"
        "-inc(256,160,320,32,128,128)-inc(384,192,384,48,128,128)-GAP-D(0.2)-O(1000)"
    )


def inception_v3() -> str:
    """torchvision inception_v3(aux_logits=False), Mixed_5b … Mixed_7c."""
    return """b(n, f, s, p) = C(n, f, s=s, p=p, bias=false)-BN-relu
pool3 = A(3,s=1,p=1)
ia(pf) = [b(64,1,1,0) | b(48,1,1,0)-b(64,5,1,2) | b(64,1,1,0)-b(96,3,1,1)-b(96,3,1,1) | pool3-b(pf,1,1,0)]
ib = [b(384,3,2,0) | b(64,1,1,0)-b(96,3,1,1)-b(96,3,2,0) | P(3,s=2)]
ic(c7) = [b(192,1,1,0)
  | b(c7,1,1,0)-b(c7,(1,7),1,(0,3))-b(192,(7,1),1,(3,0))
  | b(c7,1,1,0)-b(c7,(7,1),1,(3,0))-b(c7,(1,7),1,(0,3))-b(c7,(7,1),1,(3,0))-b(192,(1,7),1,(0,3))
  | pool3-b(192,1,1,0)]
id7 = [b(192,1,1,0)-b(320,3,2,0) | b(192,1,1,0)-b(192,(1,7),1,(0,3))-b(192,(7,1),1,(3,0))-b(192,3,2,0) | P(3,s=2)]
pair = [b(384,(1,3),1,(0,1)) | b(384,(3,1),1,(1,0))]
ie = [b(320,1,1,0) | b(384,1,1,0)-pair | b(448,1,1,0)-b(384,3,1,1)-pair | pool3-b(192,1,1,0)]
I(299,299,3)-b(32,3,2,0)-b(32,3,1,0)-b(64,3,1,1)-P(3,s=2)-b(80,1,1,0)-b(192,3,1,0)-P(3,s=2)
  -ia(32)-ia(64)-ia(64)-ib-ic(128)-ic(160)-ic(160)-ic(192)-id7-ie-ie-GAP-D(0.5)-O(1000)"""


# ---------------------------------------------------------------- MobileNetV2 (torchvision, keras)
def mobilenet_v2() -> str:
    return """pw(k) = C(k,1,bias=false)-BN
dw(s) = DW(3,s=s,p=1,bias=false)-BN-relu6
block(x, k, s) = pw(x)-relu6-dw(s)-pw(k)
res(x, k) = [block(x, k, 1) + id]
I(224,224,3)-C(32,3,s=2,p=1,bias=false)-BN-relu6-dw(1)-pw(16)
  -block(96,24,2)-res(144,24)-block(144,32,2)-res(192,32)*2-block(192,64,2)-res(384,64)*3
  -block(384,96,1)-res(576,96)*2-block(576,160,2)-res(960,160)*2-block(960,320,1)
  -pw(1280)-relu6-GAP-D(0.2)-O(1000)"""


# ---------------------------------------------------------------- video
def video(name: str) -> str:
    """torchvision r3d_18 / mc3_18 / r2plus1d_18 on 16 frames of 112×112 (I(t,h,w,3))."""
    defs = ["cb(n, f, s, p) = C(n, f, s=s, p=p, bias=false)-BN"]
    chain = ["I(16,112,112,3)"]
    if name == "r2plus1d_18":
        chain.append("cb(45,(1,7,7),(1,2,2),(0,3,3))-relu-cb(64,(3,1,1),1,(1,0,0))-relu")
    else:
        chain.append("cb(64,(3,7,7),(1,2,2),(1,3,3))-relu")

    def conv(stage: int, n: int, s: int, mid: int) -> str:
        if name == "r3d_18" or (name == "mc3_18" and stage == 0):
            return f"cb({n},3,{s},1)"
        if name == "mc3_18":
            return f"cb({n},(1,3,3),(1,{s},{s}),(0,1,1))"
        return f"cb({mid},(1,3,3),(1,{s},{s}),(0,1,1))-relu-cb({n},(3,1,1),({s},1,1),(1,0,0))"

    inplanes = 64
    for stage, planes in enumerate((64, 128, 256, 512)):
        stride = 1 if stage == 0 else 2
        for b in range(2):
            s = stride if b == 0 else 1
            mid = (inplanes * planes * 27) // (inplanes * 9 + 3 * planes)
            body = f"{conv(stage, planes, s, mid)}-relu-{conv(stage, planes, 1, mid)}"
            if s != 1 or inplanes != planes:
                ds = f"(1,{s},{s})" if name == "mc3_18" else str(s)
                chain.append(f"[{body} + cb({planes},1,{ds},0)]-relu")
            else:
                chain.append(f"[{body} + id]-relu")
            inplanes = planes
    chain.append("GAP-O(400)")
    return "\n".join(defs) + "\n" + "\n  -".join(chain)


# ---------------------------------------------------------------- ViT
VIT = {"b_16": (16, 768, 12, 12, 3072), "b_32": (32, 768, 12, 12, 3072), "l_16": (16, 1024, 24, 16, 4096),
       "l_32": (32, 1024, 24, 16, 4096), "h_14": (14, 1280, 32, 16, 5120)}  # fmt: skip


def vit(name: str) -> str:
    patch, d, layers, heads, ff = VIT[name]
    t = (224 // patch) ** 2 + 1
    return f"I(224,224,3)-C({d},{patch},s={patch})-SEQ-CLS-PE({t})-TB({heads},{ff})*{layers}-LN-FIRST-O(1000)"


# ---------------------------------------------------------------- segmentation
def segmentation(name: str) -> str:
    """fcn_resnet50 / deeplabv3_resnet50 (aux_loss off) at 520×520: a ResNet-50 with layer3
    and layer4 dilated (output stride 8), the head, and a bilinear resize to the input."""
    base = resnet(50, dilate=(False, True, True), size=(520, 520), backbone=True)
    if name == "fcn_resnet50":
        head = "C(512,3,p=1,bias=false)-BN-relu-D(0.1)-C(21,1)"
    else:
        aspp = ("[C(256,1,bias=false)-BN-relu | " + " | ".join(
            f"C(256,3,p={d},d={d},bias=false)-BN-relu" for d in (12, 24, 36))
            + " | AAP(1)-C(256,1,bias=false)-BN-relu-RS((65,65))]")  # fmt: skip
        head = f"{aspp}-C(256,1,bias=false)-BN-relu-D(0.5)-C(256,3,p=1,bias=false)-BN-relu-C(21,1)"
    return f"{base}\n  -{head}-RS((520,520))"


# ---------------------------------------------------------------- ShuffleNetV2
SHUFFLENET = {"x0_5": (48, 96, 192, 1024), "x1_0": (116, 232, 464, 1024), "x1_5": (176, 352, 704, 1024),
              "x2_0": (244, 488, 976, 2048)}  # fmt: skip


def shufflenet_v2(name: str, size=None, backbone: bool = False) -> str:
    """torchvision shufflenet_v2_{name}: `x.chunk(2)` is [CH(0,b) | CH(b,2b)-…], then channel_shuffle(2)."""
    *widths, last = SHUFFLENET[name]
    defs = [
        "pw(b) = C(b,1,bias=false)-BN-relu",
        "dbn(s) = DW(3,s=s,p=1,bias=false)-BN",
        "down(b) = [dbn(2)-pw(b) | pw(b)-dbn(2)-pw(b)]-SHUF(2)",
        "unit(b) = [CH(0,b) | CH(b,2*b)-pw(b)-dbn(1)-pw(b)]-SHUF(2)",
    ]
    chain = [_input(size), "C(24,3,s=2,p=1,bias=false)-BN-relu-P(3,s=2,p=1)"]
    for width, repeats in zip(widths, (4, 8, 4)):
        b = width // 2
        chain.append(f"down({b})-unit({b})*{repeats - 1}")
    chain.append(f"C({last},1,bias=false)-BN-relu")
    if not backbone:
        chain.append("GAP-O(1000)")
    return "\n".join(defs) + "\n" + "\n  -".join(chain)


# ---------------------------------------------------------------- Swin
SWIN = {"t": (96, (2, 2, 6, 2), (3, 6, 12, 24)), "s": (96, (2, 2, 18, 2), (3, 6, 12, 24)),
        "b": (128, (2, 2, 18, 2), (4, 8, 16, 32))}  # fmt: skip


def swin(name: str, v2: bool = False, size=None, backbone: bool = False) -> str:
    """torchvision swin_{t,s,b} and swin_v2_{t,s,b}. The per-position MLP Linear(c, 4c) is
    written C(4c,1): the same parameters, shapes and FlopCounterMode MACs."""
    embed, depths, heads = SWIN[name]
    win, shift = (8, 4) if v2 else (7, 3)
    pos = "cpb" if v2 else "table"
    if v2:  # post-norm
        defs = [
            f"attn(h, s) = [WMSA(h,win={win},shift=s,pos={pos})-LN + id]",
            "mlp(d) = [C(4*d,1)-gelu-C(d,1)-LN + id]",
        ]
    else:
        defs = [
            f"attn(h, s) = [LN-WMSA(h,win={win},shift=s) + id]",
            "mlp(d) = [LN-C(4*d,1)-gelu-C(d,1) + id]",
        ]
    defs.append(f"pair(d, h) = attn(h,0)-mlp(d)-attn(h,{shift})-mlp(d)")
    chain = [_input(size), f"C({embed},4,s=4)-LN"]
    for i, (depth, h) in enumerate(zip(depths, heads)):
        d = embed * 2**i
        chain.append(f"pair({d},{h})*{depth // 2}")
        if i < len(depths) - 1:
            chain.append(f"PM(v2={'true' if v2 else 'false'})")
    if not backbone:
        chain.append("LN-GAP-O(1000)")
    return "\n".join(defs) + "\n" + "\n  -".join(chain)


# ---------------------------------------------------------------- keras.applications
def keras_resnet(depth: int) -> str:
    """keras ResNet50/101/152 (v1): convolutions with biases, stride on the first 1×1."""
    blocks = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}[depth]
    defs = [
        "cb(n, f, s) = C(n, f, s=s, p=(f-1)/2)-BN",
        "path(m, s) = cb(m,1,s)-relu-cb(m,3,1)-relu-cb(4*m,1,1)",
    ]
    chain = ["I(224,224,3)", "Z(3)-C(64,7,s=2)-BN-relu-Z(1)-P(3,s=2)"]
    for i, (m, n) in enumerate(zip((64, 128, 256, 512), blocks)):
        s = 1 if i == 0 else 2
        chain.append(f"[path({m},{s}) + cb({4 * m},1,{s})]-relu-([path({m},1) + id]-relu)*{n - 1}")
    chain.append("GAP-O(1000)")
    return "\n".join(defs) + "\n" + "\n  -".join(chain)


def keras_resnet_v2(depth: int) -> str:
    """keras ResNet50V2/101V2/152V2: pre-activation, stride on the last block of a stack."""
    blocks = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}[depth]
    defs = ["path(m, s) = C(m,1,bias=false)-BN-relu-Z(1)-C(m,3,s=s,bias=false)-BN-relu-C(4*m,1)"]
    chain = ["I(224,224,3)", "Z(3)-C(64,7,s=2)-Z(1)-P(3,s=2)"]
    for i, (m, n) in enumerate(zip((64, 128, 256, 512), blocks)):
        last_stride = 1 if i == 3 else 2
        chain.append(f"BN-relu-[path({m},1) + C({4 * m},1)]")
        if n > 2:
            chain.append(f"[BN-relu-path({m},1) + id]*{n - 2}")
        skip = "id" if last_stride == 1 else f"P(1,s={last_stride})"
        chain.append(f"[BN-relu-path({m},{last_stride}) + {skip}]")
    chain.append("BN-relu-GAP-O(1000)")
    return "\n".join(defs) + "\n" + "\n  -".join(chain)


def keras_mobilenet() -> str:
    """keras MobileNet (alpha 1): ZeroPadding2D(((0,1),(0,1))) + valid before a stride-2
    depthwise gives torch's p=1 sizes; the head's Conv2D(1000,1) on 1×1 counts as a Dense."""
    defs = ["dw(n, s) = DW(3,s=s,p=1,bias=false)-BN-relu6-C(n,1,bias=false)-BN-relu6"]
    chain = ("I(224,224,3)-C(32,3,s=2,p=1,bias=false)-BN-relu6-dw(64,1)-dw(128,2)-dw(128,1)-dw(256,2)"
             "-dw(256,1)-dw(512,2)-dw(512,1)*5-dw(1024,2)-dw(1024,1)-GAP-D(0.001)-O(1000)")  # fmt: skip
    return "\n".join(defs) + "\n" + chain


def keras_xception() -> str:
    """keras Xception (applications/xception.py)."""
    return """sc(n) = SC(n,3,p=1,bias=false)-BN
entry(n) = [sc(n)-relu-sc(n)-P(3,s=2,p=1) + C(n,1,s=2,bias=false)-BN]
middle = [relu-sc(728)-relu-sc(728)-relu-sc(728) + id]
I(299,299,3)-C(32,3,s=2,bias=false)-BN-relu-C(64,3,bias=false)-BN-relu
  -entry(128)-[relu-sc(256)-relu-sc(256)-P(3,s=2,p=1) + C(256,1,s=2,bias=false)-BN]
  -[relu-sc(728)-relu-sc(728)-P(3,s=2,p=1) + C(728,1,s=2,bias=false)-BN]
  -middle*8
  -[relu-sc(728)-relu-sc(1024)-P(3,s=2,p=1) + C(1024,1,s=2,bias=false)-BN]
  -sc(1536)-relu-sc(2048)-relu-GAP-O(1000)"""


# ---------------------------------------------------------------- MaxViT (needs the gate branch `[A * B]`)
def maxvit_t() -> str:
    """torchvision maxvit_t at 224: MBConv (pre-BN, SE of out/4 over 4·out, avg-pool
    projection when strided) then window and grid attention (7×7, head width 32, no
    padding). Its SE gate needs the multiplying branch `[A * B]` (issue 14, first half)."""
    return """se(e, q) = [id * (AAP(1)-C(q,1)-silu-C(e,1)-sigmoid)]
mb(o, s) = BN-C(4*o,1,bias=false)-BN-gelu-DW(3,s=s,p=1,bias=false)-BN-gelu-se(4*o, o/4)-C(o,1)
mlp(o) = [LN-C(4*o,1)-gelu-C(o,1) + id]
part(o) = [LN-WMSA(o/32,pad=false) + id]-mlp(o)-[LN-WMSA(o/32,grid=true) + id]-mlp(o)
first(o) = [mb(o,2) + A(3,s=2,p=1)-C(o,1)]-part(o)
more(o) = [mb(o,1) + id]-part(o)
I(224,224,3)-C(64,3,s=2,p=1,bias=false)-BN-gelu-C(64,3,p=1)
  -first(64)-more(64)
  -first(128)-more(128)
  -first(256)-more(256)*4
  -first(512)-more(512)
  -GAP-LN-H(512)-tanh-O(1000,bias=false)"""
