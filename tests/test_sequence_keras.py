"""Sequence layers against Keras 3 (KERAS_BACKEND=torch): counts, the trainable split and shapes.

Keras differs from PyTorch where the frameworks do: one bias vector per recurrent gate
(two for GRU with reset_after=True), and attention with a free key_dim.
"""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams

os.environ.setdefault("KERAS_BACKEND", "torch")
pytestmark = pytest.mark.frameworks

FEW = settings(max_examples=10, deadline=None)


@pytest.fixture(autouse=True, scope="module")
def keras_imported():
    """Import Keras once, before hypothesis runs: the import raises the recursion limit,
    which hypothesis would otherwise warn about."""
    import keras

    return keras
widths = st.integers(1, 20)
lengths = st.integers(1, 8)


def word(flag: bool) -> str:
    return "true" if flag else "false"


def keras_model(input_shape, *layers):
    """A functional model of the layers in a row; attention layers attend to themselves."""
    import keras

    x = inputs = keras.Input(input_shape)
    for layer in layers:
        if isinstance(layer, (keras.layers.MultiHeadAttention, keras.layers.GroupQueryAttention)):
            x = layer(x, x)
        else:
            x = layer(x)
    return keras.Model(inputs, x)


def counts(model) -> tuple[int, int, int, tuple]:
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return model.count_params(), trainable, model.count_params() - trainable, tuple(model.output.shape[1:])


def expected(text: str) -> tuple[int, int, int, tuple]:
    net = symparams.parse(text, convention="keras")
    return net.params, net.trainable, net.non_trainable, net.output_shape


# ---------------------------------------------------------------- recurrent layers
@FEW
@given(kind=st.sampled_from(["R", "L", "G"]), t=lengths, c=widths, n=widths, seq=st.booleans(),
       bi=st.booleans(), bias=st.booleans(), reset_after=st.booleans())
def test_recurrent_layers_match_keras(kind, t, c, n, seq, bi, bias, reset_after):
    import keras

    options = {"return_sequences": seq, "use_bias": bias}
    if kind == "G":
        layer = keras.layers.GRU(n, reset_after=reset_after, **options)
        extra = f",reset_after={word(reset_after)}"
    else:
        layer = (keras.layers.SimpleRNN if kind == "R" else keras.layers.LSTM)(n, **options)
        extra = ""
    if bi:
        layer = keras.layers.Bidirectional(layer)  # merge_mode="concat": 2n features
    text = f"I({t},{c})-{kind}({n},seq={word(seq)},bi={word(bi)},bias={word(bias)}{extra})"
    assert counts(keras_model((t, c), layer)) == expected(text)


def test_published_lstm_stack():
    import keras

    layers = [keras.layers.LSTM(64, return_sequences=True), keras.layers.Dropout(0.5), keras.layers.LSTM(64),
              keras.layers.Dense(64), keras.layers.Dense(64), keras.layers.Dense(6)]
    model = keras_model((100, 6), *layers)
    net = symparams.parse("I(100,6)-L(64,seq=true)-D(0.5)-L(64)-H(64)-H(64)-O(6)", convention="keras")
    assert [row.params for row in net.layers[1:4:2]] == [18_176, 33_024]
    assert [layer.count_params() for layer in model.layers[1:4:2]] == [18_176, 33_024]
    assert net.params == model.count_params() == 59_910


def test_published_bidirectional_lstm_with_batch_norm():
    import keras

    model = keras_model((128, 20), keras.layers.Bidirectional(keras.layers.LSTM(50)))
    assert symparams.parse("I(128,20)-L(50,bi=true)", convention="keras").params == model.count_params() == 28_400
    model = keras_model((128, 20), keras.layers.Bidirectional(keras.layers.LSTM(50)),
                        keras.layers.BatchNormalization())
    assert counts(model) == expected("I(128,20)-L(50,bi=true)-BN") == (28_800, 28_600, 200, (100,))


# ---------------------------------------------------------------- attention and embeddings
@FEW
@given(t=lengths, c=widths, h=st.integers(1, 4), k=st.integers(1, 6), bias=st.booleans())
def test_multi_head_attention_matches_keras(t, c, h, k, bias):
    import keras

    layer = keras.layers.MultiHeadAttention(num_heads=h, key_dim=k, use_bias=bias)
    assert counts(keras_model((t, c), layer)) == expected(f"I({t},{c})-MHA({h},k={k},bias={word(bias)})")


@FEW
@given(t=lengths, c=widths, kv=st.integers(1, 3), groups=st.integers(1, 3), k=st.integers(1, 6),
       bias=st.booleans())
def test_grouped_query_attention_matches_keras(t, c, kv, groups, k, bias):
    import keras

    h = kv * groups
    layer = keras.layers.GroupQueryAttention(head_dim=k, num_query_heads=h, num_key_value_heads=kv,
                                             use_bias=bias)
    text = f"I({t},{c})-MHA({h},k={k},kv={kv},bias={word(bias)})"
    assert counts(keras_model((t, c), layer)) == expected(text)


def test_default_head_width_is_c_over_h_as_in_keras_models():
    import keras

    layer = keras.layers.MultiHeadAttention(num_heads=4, key_dim=32 // 4)
    assert counts(keras_model((10, 32), layer)) == expected("I(10,32)-MHA(4)")


@FEW
@given(t=lengths, v=st.integers(1, 50), d=widths)
def test_embedding_matches_keras(t, v, d):
    import keras

    model = keras_model((t,), keras.layers.Embedding(v, d))
    assert counts(model) == expected(f"I({t})-E({v},{d})")


# ---------------------------------------------------------------- transformer blocks
def keras_block(t, c, h, ff, norm, mlp, bias, kv):
    """A pre-norm block written with Keras layers: [norm-MHA + id]-[norm-MLP + id]."""
    import keras
    from keras import layers

    def normalize(x):
        if norm == "rms":
            return layers.RMSNormalization()(x)
        return layers.LayerNormalization(center=bias)(x)

    x = inputs = keras.Input((t, c))
    y = normalize(x)
    if kv == h:
        y = layers.MultiHeadAttention(num_heads=h, key_dim=c // h, use_bias=bias)(y, y)
    else:
        y = layers.GroupQueryAttention(head_dim=c // h, num_query_heads=h, num_key_value_heads=kv,
                                       use_bias=bias)(y, y)
    x = layers.Add()([x, y])
    y = normalize(x)
    if mlp == "swiglu":  # LLaMA: silu(x W_gate) * (x W_up), then down to c
        gate = layers.Dense(ff, activation="silu", use_bias=bias)(y)
        y = layers.Multiply()([gate, layers.Dense(ff, use_bias=bias)(y)])
    else:
        y = layers.Dense(ff, activation="gelu", use_bias=bias)(y)
    y = layers.Dense(c, use_bias=bias)(y)
    return keras.Model(inputs, layers.Add()([x, y]))


@FEW
@given(t=lengths, kv=st.integers(1, 3), groups=st.integers(1, 3), k=st.integers(1, 4), ff=st.integers(1, 30),
       norm=st.sampled_from(["ln", "rms"]), mlp=st.sampled_from(["gelu", "swiglu"]), bias=st.booleans())
def test_transformer_block_matches_keras(t, kv, groups, k, ff, norm, mlp, bias):
    h = kv * groups
    c = h * k
    model = keras_block(t, c, h, ff, norm, mlp, bias, kv)
    text = f"I({t},{c})-TB({h},{ff},norm={norm},mlp={mlp},bias={word(bias)},kv={kv})"
    assert counts(model) == expected(text)
