"""Layers of the modern vision models (issue 14): layer scale, Keras's preprocessing
layers, group and instance norm, PReLU, drop path and the activations of MobileNetV3.

Sources, read in the installed frameworks (torch 2.13, torchvision 0.28, keras 3):
torchvision `convnext.CNBlock` (layer_scale, a (c, 1, 1) parameter), keras
`applications/convnext.LayerScale` (gamma (c,)), keras `Normalization.build` (adapt_mean
and adapt_variance of the kept axes and an int count, all non-trainable), `Rescaling`
(no weights), torch `GroupNorm` / `InstanceNorm2d` (affine=False by default) and keras
`GroupNormalization`, torch `PReLU(num_parameters=1)` and keras `PReLU.build` (alpha of
`input_shape[1:]`, shared_axes set to 1), torchvision `StochasticDepth` (no weights).

Multiply-accumulates follow FlopCounterMode / 2 (the compute rule): a scale, a norm or an
activation does no matrix product, so each of these layers is 0.
"""

from __future__ import annotations

from ..base.errors import ShapeError
from ..base.expr import divides, product
from .registry import BOOL, NUMBER, RATE, LayerCall, LayerOut, Param, choice, flag, register, size


@register("LS", "LayerScale")
def layer_scale(call: LayerCall) -> LayerOut:
    """Layer scale: a learned γ per channel multiplies the input (c parameters)."""
    return LayerOut(call.shape, "LayerScale", call.channels)


@register("NORM", "Normalization", params=(flag("adapt", True), choice("axis", "last", "last", "none")))
def normalization(call: LayerCall) -> LayerOut:
    """Keras's Normalization: adapted (no mean and variance given) it keeps a mean and a
    variance per channel and a count, all non-trainable (2c + 1); given them, none.

    torch has no such module (torchvision normalises in its transforms, outside the
    model), and a module that holds a fixed mean and std keeps them as buffers: 0.
    """
    if call.convention != "keras" or not call.args.adapt:
        return LayerOut(call.shape, "Normalization")
    kept = call.channels if call.args.axis == "last" else 1
    return LayerOut(call.shape, "Normalization", non_trainable=2 * kept + 1)


@register("RESCALE", "Rescaling", params=(Param("scale", NUMBER, 1), Param("offset", NUMBER, 0)))
def rescaling(call: LayerCall) -> LayerOut:
    """x · scale + offset: no parameters."""
    return LayerOut(call.shape, "Rescaling")


@register("GN", "GroupNorm", params=(size("g"), flag("affine", True)))
def group_norm(call: LayerCall) -> LayerOut:
    """Group normalisation over g groups of the channels: γ and β (2c); g must divide c."""
    c = call.channels
    cond = divides(call.args.g, c, f"needs channels {c} divisible by groups g={call.args.g}")
    weights, biases = (c, c) if call.args.affine else (0, 0)
    return LayerOut(call.shape, "GroupNorm", weights, biases, conditions=(cond,))


@register("IN", "InstanceNorm", params=(Param("affine", BOOL, None),))
def instance_norm(call: LayerCall) -> LayerOut:
    """Instance normalisation: torch's InstanceNorm has no parameters by default
    (affine=False); Keras has no InstanceNorm, its idiom GroupNormalization(groups=-1)
    has γ and β: so the default follows the convention, affine=true is 2c in both."""
    need_spatial_axes(call)
    affine = call.args.affine if call.args.affine is not None else call.convention == "keras"
    c = call.channels
    weights, biases = (c, c) if affine else (0, 0)
    return LayerOut(
        call.shape, "InstanceNorm" if call.convention == "torch" else "GroupNormalization", weights, biases
    )


def need_spatial_axes(call: LayerCall) -> None:
    if call.rank < 2:
        raise ShapeError(f"needs an input with spatial axes, got a vector of {call.shape[0]}")


@register("PReLU", params=(choice("per", "", "one", "channel", "element"),))
def prelu(call: LayerCall) -> LayerOut:
    """Parametric ReLU: one learned slope (`per=one`, torch's default), one per channel
    (`per=channel`: torch num_parameters=c, Keras shared_axes over the spatial axes) or
    one per input element (`per=element`, Keras's default). The default follows the
    convention."""
    per = call.args.per or ("one" if call.convention == "torch" else "element")
    slopes = {"one": 1, "channel": call.channels, "element": product(call.shape)}[per]
    return LayerOut(call.shape, "PReLU", slopes)


@register("DP", "DropPath", "StochasticDepth", params=(Param("r", RATE),))
def drop_path(call: LayerCall) -> LayerOut:
    """Stochastic depth: drops a residual branch per sample in training; no parameters."""
    return LayerOut(call.shape, "StochasticDepth")


@register("lrelu", "leakyrelu", params=(Param("a", NUMBER, None),))
def leaky_relu(call: LayerCall) -> LayerOut:
    """Leaky ReLU with slope a (torch's default 0.01, Keras's 0.3): no parameters."""
    return LayerOut(call.shape, "LeakyReLU")


def _activation(name: str, kind: str) -> None:
    def activation(call: LayerCall) -> LayerOut:
        return LayerOut(call.shape, kind)

    activation.__doc__ = f"{kind} activation: no parameters."
    register(name)(activation)


for _name, _kind in [("hswish", "Hardswish"), ("hsigmoid", "Hardsigmoid"), ("mish", "Mish")]:
    _activation(_name, _kind)
