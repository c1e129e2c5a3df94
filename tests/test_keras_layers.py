"""Every layer and option of the core, checked against the real Keras 3 layer."""

import pytest
from frameworks import LAYER_CASES, case_id, check_keras

pytestmark = pytest.mark.frameworks

KERAS_CASES = [case for case in LAYER_CASES if "k" in case[2]]


@pytest.mark.parametrize("case", KERAS_CASES, ids=case_id)
def test_layer_matches_keras(case):
    shape, specs, _ = case
    check_keras(shape, specs)


def _keras_length(layer, x: int) -> int | None:
    """The length Keras gives a (x, 1) sequence, or None when it refuses it."""
    import numpy as np

    try:
        out = layer(np.zeros((1, x, 1), dtype="float32"))
    except (ValueError, RuntimeError):
        return None
    length = int(out.shape[1])
    return length if length >= 1 else None


def _symparams_length(text: str) -> int | None:
    import symparams

    try:
        return int(symparams.parse(text, convention="keras").shape[0])
    except symparams.ShapeError:
        return None


def test_pool_conv_and_transposed_lengths_on_a_grid_equal_keras():
    """Every small 1D case of pooling, convolution and transposed convolution with 'same'
    and 'valid': the same length, or both refuse."""
    from keras import layers

    for f in range(1, 5):
        for s in range(1, 4):
            for p in ("valid", "same"):
                pools = [(layers.MaxPooling1D(f, s, p), "P"), (layers.AveragePooling1D(f, s, p), "A")]
                for pool, short in pools:
                    for x in range(1, 9):
                        text = f"I({x},1)-{short}({f},s={s},p={p})"
                        assert _symparams_length(text) == _keras_length(pool, x), text
                for d in (1, 2) if s == 1 else (1,):  # Keras: no stride > 1 with dilation > 1
                    conv = layers.Conv1D(1, f, s, p, dilation_rate=d)
                    up = layers.Conv1DTranspose(1, f, s, p, dilation_rate=d)
                    for x in range(1, 8):
                        text = f"I({x},1)-C(1,{f},s={s},p={p},d={d})"
                        assert _symparams_length(text) == _keras_length(conv, x), text
                        text = f"I({x},1)-T(1,{f},s={s},p={p},d={d})"
                        assert _symparams_length(text) == _keras_length(up, x), text
