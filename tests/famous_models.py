"""The famous models of examples/, written by hand in PyTorch (no torchvision here).

Each builder follows the paper's table and torchvision's layout where torchvision has
the model (AlexNet, VGG-16, ResNet-18/50, MobileNetV2: same module shapes as
torchvision.models); each returns an `nn.Module` taking a channels-first batch.
Models are built on the meta device by `torch_result`, so even VGG-16 costs no memory.
"""

from __future__ import annotations


def _nn():
    import torch
    from torch import nn

    return torch, nn


# ---------------------------------------------------------------- small nets
def lenet5():
    _, nn = _nn()
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(),
        nn.Flatten(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )


def mnist_cnn():
    _, nn = _nn()
    return nn.Sequential(nn.Conv2d(1, 32, 5), nn.MaxPool2d(2), nn.Conv2d(32, 32, 3), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 5 * 5, 256), nn.Linear(256, 10))


def mnist_two_conv():
    _, nn = _nn()
    return nn.Sequential(nn.Conv2d(1, 24, 3), nn.Conv2d(24, 36, 3), nn.Flatten(),
                         nn.Linear(36 * 24 * 24, 128), nn.Linear(128, 10))


def mnist_caffe_lenet():
    _, nn = _nn()
    return nn.Sequential(nn.Conv2d(3, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(50 * 4 * 4, 500), nn.Linear(500, 10))


def three_column():
    torch, nn = _nn()

    def column():
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.MaxPool2d(2), nn.Conv2d(32, 32, 3), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(32 * 11 * 11, 256))

    class ThreeColumns(nn.Module):
        def __init__(self):
            super().__init__()
            self.columns = nn.ModuleList(column() for _ in range(3))
            self.out = nn.Linear(3 * 256, 11)

        def forward(self, x):
            return self.out(torch.cat([col(x) for col in self.columns], dim=1))

    return ThreeColumns()


# ---------------------------------------------------------------- AlexNet, VGG
def alexnet():
    _, nn = _nn()
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        nn.AdaptiveAvgPool2d(6), nn.Flatten(),
        nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
        nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, 1000),
    )


def vgg16():
    _, nn = _nn()
    layers, c = [], 3
    for item in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, item, 3, padding=1), nn.ReLU()]
            c = item
    return nn.Sequential(*layers, nn.Flatten(),
                         nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(),
                         nn.Linear(4096, 1000))


# ---------------------------------------------------------------- ResNets
def _resnet(block, layers: list[int], expansion: int):
    _, nn = _nn()
    stem = [nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1)]
    stages, c = [], 64
    for i, count in enumerate(layers):
        width, stride = 64 * 2**i, 1 if i == 0 else 2
        for j in range(count):
            stages.append(block(c, width, stride if j == 0 else 1))
            c = width * expansion
    return nn.Sequential(*stem, *stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1000))


def _shortcut(nn, c: int, out: int, stride: int):
    if stride == 1 and c == out:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(c, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))


def resnet18():
    _, nn = _nn()

    class BasicBlock(nn.Module):
        def __init__(self, c: int, width: int, stride: int):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(c, width, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width))
            self.shortcut = _shortcut(nn, c, width, stride)

        def forward(self, x):
            return (self.body(x) + self.shortcut(x)).relu()

    return _resnet(BasicBlock, [2, 2, 2, 2], 1)


def resnet50():
    _, nn = _nn()

    class Bottleneck(nn.Module):
        def __init__(self, c: int, width: int, stride: int):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(c, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                nn.Conv2d(width, 4 * width, 1, bias=False), nn.BatchNorm2d(4 * width))
            self.shortcut = _shortcut(nn, c, 4 * width, stride)

        def forward(self, x):
            return (self.body(x) + self.shortcut(x)).relu()

    return _resnet(Bottleneck, [3, 4, 6, 3], 4)


# ---------------------------------------------------------------- Inception, MobileNetV2, U-Net
def inception_3a():
    torch, nn = _nn()

    def conv(c: int, k: int, f: int):
        return [nn.Conv2d(c, k, f, padding=(f - 1) // 2), nn.ReLU()]

    class Inception(nn.Module):
        def __init__(self, c, a, r3, b, r5, cc, pp):
            super().__init__()
            self.branches = nn.ModuleList([
                nn.Sequential(*conv(c, a, 1)),
                nn.Sequential(*conv(c, r3, 1), *conv(r3, b, 3)),
                nn.Sequential(*conv(c, r5, 1), *conv(r5, cc, 5)),
                nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *conv(c, pp, 1)),
            ])

        def forward(self, x):
            return torch.cat([branch(x) for branch in self.branches], dim=1)

    return Inception(192, 64, 96, 128, 16, 32, 32)


def mobilenet_v2():
    _, nn = _nn()

    def conv_bn(c, k, f=1, stride=1, groups=1):
        return [nn.Conv2d(c, k, f, stride=stride, padding=(f - 1) // 2, groups=groups, bias=False),
                nn.BatchNorm2d(k)]

    class InvertedResidual(nn.Module):
        def __init__(self, c: int, k: int, stride: int, t: int):
            super().__init__()
            hidden = c * t
            layers = [] if t == 1 else [*conv_bn(c, hidden), nn.ReLU6()]
            layers += [*conv_bn(hidden, hidden, 3, stride, groups=hidden), nn.ReLU6(), *conv_bn(hidden, k)]
            self.body = nn.Sequential(*layers)
            self.residual = stride == 1 and c == k

        def forward(self, x):
            return x + self.body(x) if self.residual else self.body(x)

    blocks, c = [], 32
    for t, k, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            blocks.append(InvertedResidual(c, k, s if i == 0 else 1, t))
            c = k
    return nn.Sequential(*conv_bn(3, 32, 3, 2), nn.ReLU6(), *blocks, *conv_bn(320, 1280), nn.ReLU6(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, 1000))


def unet():
    torch, nn = _nn()

    def double(c, k):
        return nn.Sequential(nn.Conv2d(c, k, 3, padding=1), nn.ReLU(), nn.Conv2d(k, k, 3, padding=1), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1, self.enc2, self.bottom = double(1, 32), double(32, 64), double(64, 128)
            self.up2, self.dec2 = nn.ConvTranspose2d(128, 64, 2, stride=2), double(128, 64)
            self.up1, self.dec1 = nn.ConvTranspose2d(64, 32, 2, stride=2), double(64, 32)
            self.head = nn.Conv2d(32, 2, 1)
            self.pool = nn.MaxPool2d(2)

        def forward(self, x):
            e1 = self.enc1(x)
            e2 = self.enc2(self.pool(e1))
            b = self.bottom(self.pool(e2))
            d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
            d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
            return self.head(d1)

    return UNet()


# ---------------------------------------------------------------- running them
def torch_result(builder, input_shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """Parameters (sum of numel) and output shape (channels first, no batch) of a model
    built on the meta device: shapes and counts without allocating any weights."""
    torch, _ = _nn()
    with torch.device("meta"):
        model = builder()
        model.eval()
        y = model(torch.empty((1,) + tuple(input_shape)))
    return sum(p.numel() for p in model.parameters()), tuple(y.shape[1:])
