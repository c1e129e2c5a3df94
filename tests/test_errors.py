"""Errors: the class, the message in the user's words, and the caret under the right token."""

from __future__ import annotations

import pytest

import symparams


def error_of(text: str, **kw) -> symparams.SymparamsError:
    with pytest.raises(symparams.SymparamsError) as info:
        symparams.parse(text, **kw)
    return info.value


def caret_under(err: symparams.SymparamsError) -> str:
    """The text the rendered caret line points at."""
    lines = str(err).splitlines()
    quoted, carets = lines[1][2:], lines[2][2:]
    start = len(carets) - len(carets.lstrip(" "))
    return quoted[start:len(carets)]


# text, error class, message (the part after "at column N: "), the token under the caret
CASES = [
    # parse errors
    ("I-C(32,5-P(2)", symparams.ParseError, "unexpected '-': a ')' is missing before the layer 'P'", "-"),
    ("I(28,28,1)-C(32,3", symparams.ParseError, "unexpected end of input", ""),
    ("I(28,28,1)--C(3,3)", symparams.ParseError, "unexpected '-'", "-"),
    ("I(28,28,1)-C(32,3))", symparams.ParseError, "unexpected ')'", ")"),
    ("I(28,28,1)-C(32,3)−relu", symparams.ParseError, "unexpected character '−' (did you mean '-'?)", "−"),
    ("I(28,28,1)-C(n=3,3)", symparams.ParseError, "a positional argument cannot follow a keyword argument", "3"),
    ("C(3,3)", symparams.ParseError, "a network starts with an input layer, such as I(28,28,1) or I", "C(3,3)"),
    ("I(28,28,1)-X(3)", symparams.ParseError, "unknown layer 'X'", "X(3)"),
    # binding: unknown or missing arguments, wrong kinds, tuples of the wrong length
    ("I(28,28,1)-C(32,3,q=2)", symparams.SymparamsError, "C has no argument 'q'", "q=2"),
    ("I(28,28,1)-C(32)", symparams.SymparamsError, "C needs its argument 'f'", "C(32)"),
    ("I(28,28,1)-C(32,3,s=2,s=1)", symparams.SymparamsError, "argument 's' of C is given twice", "s=1"),
    ("I(28,28,1)-C(32,(3,3,3))", symparams.ShapeError,
     "C: 'f' has 3 values but the input has 2 spatial axes", "(3,3,3)"),
    ("I(9,9,9,1)-P((2,2))", symparams.ShapeError, "P: 'f' has 2 values but the input has 3 spatial axes", "(2,2)"),
    ("I(28,28,1)-C(32.5,3)", symparams.ShapeError, "C: 'n' must be a whole number, got 32.5", "32.5"),
    ("I(28,28,1)-C(32,2.0)", symparams.ShapeError, "C: 'f' must be a whole number, got 2.0", "2.0"),
    ("I(28,28,1)-H(0.5)", symparams.ShapeError, "H: 'n' must be a whole number, got 0.5", "0.5"),
    ("I(28,28,1)-H(2*1.5)", symparams.ShapeError, "H: 'n' must be a whole number, got 2*1.5", "2*1.5"),
    ("I(2.0,3)", symparams.ShapeError, "I: an axis must be a whole number, got 2.0", "2.0"),
    ("I(28,28,1)-C(32,3,s=0)", symparams.ShapeError, "C: 's' must be positive, got 0", "0"),
    ("I(28,28,1)-C(32,3,p=-1)", symparams.ShapeError, "C: 'p' must be at least 0, got -1", "-1"),
    ("I(28,28,1)-C(32,3,bias=1)", symparams.ShapeError, "C: 'bias' must be true or false", "1"),
    ("I(28,28,1)-C(32,3,p=(same,1))", symparams.ShapeError,
     "C: 'p' takes a keyword or numbers, not a tuple holding the keyword 'same'", "(same,1)"),
    ("I(28,28,1)-C(same,3)", symparams.ShapeError, "C: 'n' cannot be the keyword 'same'", "same"),
    ("I(28,28,1)-D(2)", symparams.ShapeError, "D: 'r' must be a number from 0 to 1", "2"),
    ("I(1,2,3,4,5)", symparams.ShapeError, "I takes 1 to 4 axes, got 5", "I(1,2,3,4,5)"),
    # exact division
    ("I(28,28,1)-C(3/2,3)", symparams.ShapeError, "'/' is exact division, but 3/2 is not a whole number", "3/2"),
    ("I(28,28,1)-H(1/0)", symparams.ShapeError, "division by zero", "1/0"),
    # shape rules of layers
    ("I(4,4,1)-C(32,5)", symparams.ShapeError, "C(32,5) needs an input of at least 5 on axis h, got 4", "C(32,5)"),
    ("I(9,4,1)-C(32,5)", symparams.ShapeError, "C(32,5) needs an input of at least 5 on axis w, got 4", "C(32,5)"),
    ("I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-C(8,6)", symparams.ShapeError,
     "C(8,6) needs an input of at least 6 on axis h, got 5", "C(8,6)"),
    ("I(6,1)-P(3)-P(3)", symparams.ShapeError, "P(3) needs an input of at least 3 on axis t, got 2", "P(3)"),
    # torch's avg_pool3d needs the input at least the kernel, padding or not; max pooling does not.
    ("I(3,3,3,1)-A(4,p=1,ceil=true)", symparams.ShapeError,
     "A(4,p=1,ceil=true) needs an input of at least 4 on axis d, got 3", "A(4,p=1,ceil=true)"),
    ("I(28,28,3)-C(32,3,g=2)", symparams.ShapeError,
     "C(32,3,g=2) needs input channels 3 divisible by groups g=2", "C(32,3,g=2)"),
    ("I(28,28,4)-C(6,3,g=4)", symparams.ShapeError,
     "C(6,3,g=4) needs output channels 6 divisible by groups g=4", "C(6,3,g=4)"),
    ("I(5)-C(3,3)", symparams.ShapeError,
     "C(3,3) needs an input with spatial axes (a sequence, image or volume), got a vector of 5", "C(3,3)"),
    ("I(3,3,1)-T(2,3,p=same,op=1)", symparams.ShapeError,
     "T(2,3,p=same,op=1) needs output padding op=1 below the stride s=1 or the dilation d=1 on axis h "
     "(PyTorch: \"output padding must be smaller than either stride or dilation\")", "T(2,3,p=same,op=1)"),
    ("I(28,28,1)-C(32,3)-I", symparams.ShapeError, "an input layer I can only start the network", "I"),
]


@pytest.mark.parametrize("text, cls, message, token", CASES, ids=[c[0] for c in CASES])
def test_error_message_and_caret(text, cls, message, token):
    err = error_of(text)
    assert isinstance(err, cls)
    assert err.message == message
    first = str(err).splitlines()[0]
    assert first == f"{err.headline} at column {err.pos + 1}: {message}"
    assert str(err).splitlines()[1] == "  " + text
    if token:
        assert text[err.pos:].startswith(token)
        assert caret_under(err) == token
    else:  # end of input: the caret stands just past the text
        assert err.pos == len(text)


def test_dilated_kernel_needs_its_effective_size():
    # PyTorch's and Keras's rule: a dilated kernel spans d(f-1)+1 = 9 inputs.
    assert symparams.parse("I(9,9,1)-C(8,3,d=4)").output_shape == (8, 1, 1)
    err = error_of("I(8,9,1)-C(8,3,d=4)")
    assert err.message == "C(8,3,d=4) needs an input of at least 9 on axis h, got 8"


def test_expected_tokens_are_in_the_language_words():
    err = error_of("I(28,28,1)-C(32,3")
    assert err.expected and set(err.expected) <= {"')'", "','", "'-'", "'*'", "'+'", "'/'", "'^'"}
    err = error_of("I(28,28,1)-")
    assert "a name" in err.expected
    assert not any(word.isupper() or "$END" in word for word in err.expected)  # no lark terminal names


def test_unknown_layer_lists_the_registry_and_suggests():
    err = error_of("I(28,28,1)-Cnv(32,3)")
    assert {"C", "P", "H", "BN", "relu"} <= set(err.expected)
    assert any("Conv" in note for note in err.notes)


def test_unknown_argument_lists_the_valid_ones():
    err = error_of("I(28,28,1)-P(2,bogus=2)")  # stride= is an alias of s (tests/test_newcomer.py)
    assert err.message == "P has no argument 'bogus'"
    assert err.notes == ("P takes: f, s, p, ceil",)


def test_symbolic_exact_division_is_a_condition_and_numeric_value_an_error():
    net = symparams.parse("I-C(k/2,3)")
    assert "Eq(Mod(k, 2), 0)" in [str(c) for c in net.conditions]
    assert net.subs(k=6).params == 3 * (9 * symparams.parse("I").layers[0].shape[-1] + 1)
    err = error_of("I-C(k/2,3)", values={"k": 5})
    assert err.message == "'/' is exact division, but 5/2 is not a whole number"
    assert caret_under(err) == "k/2"


def test_symbolic_shape_rules_become_conditions_and_values_that_break_them_errors():
    net = symparams.parse("I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)")
    assert [str(c) for c in net.conditions] == ["h >= 12", "w >= 12"]
    with pytest.raises(symparams.ShapeError) as info:
        net.subs(h=11, w=28, c=1)
    assert "on axis h" in info.value.message


def test_groups_become_divisibility_conditions():
    net = symparams.parse("I(h,w,c)-C(n,3,g=4)")
    shown = {str(c) for c in net.conditions}
    assert {"Eq(Mod(c, 4), 0)", "Eq(Mod(n, 4), 0)"} <= shown
    with pytest.raises(symparams.ShapeError):
        net.subs(c=6, n=8, h=5, w=5)


def test_no_user_text_reaches_eval_or_sympify():
    # Python, sympy and shell syntax are not the language: each is a parse error, never run.
    for text in ["I(__import__('os').getpid())", "I(28)-H(exp(2))", "I(28)-H(2**3)", "I(28);import os"]:
        with pytest.raises(symparams.SymparamsError):
            symparams.parse(text)


def test_errors_are_value_errors_with_position():
    err = error_of("I(4,4,1)-C(32,5)")
    assert isinstance(err, ValueError)
    assert (err.pos, err.end) == (9, 16)
    assert err.text == "I(4,4,1)-C(32,5)"
