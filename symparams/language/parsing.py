"""Text to syntax tree. The only module that imports lark.

The grammar lives in `grammar/symparams.lark`, shipped inside the wheel as the
package data of `symparams.grammar`, built once and cached. Lark's exceptions never
leave this module: they become `ParseError`s that quote the text, put a caret under
the offending token and list what was expected in the language's own words.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from contextlib import suppress
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from pathlib import Path

import lark
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ..base.errors import LimitError, ParseError, SymparamsError
from ..base.limits import MAX_DIGITS, MAX_LAYERS
from . import syntax as S

MAX_TEXT = 1_000_000  # characters; larger inputs are refused before parsing
MAX_NESTING = 100  # brackets open at once; deeper text is refused before parsing
# Operators nested in one argument (`2^2^...^2`, `1+1+...+1`, `----1`): each level is a
# few Python frames in the tree walk, the builder and sympy's printers.
MAX_OPERATORS = 100
_OPERATOR_RULES = frozenset({"add_expr", "sub_expr", "mul_expr", "div_expr", "pow_expr", "neg_expr"})

# Terminal names lark uses, in the words a user of the language knows.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "a number",
    "DECIMAL": "a decimal number",
    "DEF_HEAD": "a definition",
    "BIND_HEAD": "a tensor binding",
    "REPLICAS": "a count",
    "MUL": "'*'",
    "_SEMI": "';'",
    "$END": "end of input",
}
_ORDER = [
    "a name",
    "a number",
    "'('",
    "'['",
    "')'",
    "']'",
    "','",
    "'-'",
    "'*'",
    "'|'",
    "'+'",
    "'='",
    "end of input",
]


@lru_cache(maxsize=1)
def grammar_text() -> str:
    """The grammar, read from the installed package."""
    return resources.files("symparams.grammar").joinpath("symparams.lark").read_text("utf-8")


PARSER_OPTIONS = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": False}

# The text being parsed, comments blanked, for `_retag_star` (lark hands a lexer callback
# only the token).
_CODE: ContextVar[str] = ContextVar("symparams_code", default="")
_NAME_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*\(")
_COUNT_TEXT = re.compile(r"[A-Za-z0-9_.\s+\-*/^()]*")
_REPLICAS_AHEAD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|[0-9](_?[0-9])*)\s*\[")


def is_branch_product(code: str, pos: int) -> bool:
    """Whether the '*' at `pos` multiplies branches (`[A * B]`) rather than repeats.

    Only what follows it decides, and only where the text could not be a count, which
    is a number, a name or a parenthesised arithmetic expression: a layer with
    parentheses (`* H(8)`), a bracket (`* [A | B]`, `* 2[A]`) or a parenthesised chain
    that holds a layer call or a bracket (`* (GAP-H(8)-sigmoid)`). So `[A * n]`,
    `[A * sigmoid]` and `[A * (a-b)]` stay repetitions, as they always were.

    >>> is_branch_product("[id * (GAP-H(8))]", 4), is_branch_product("[X * (k+1)]", 3)
    (True, False)
    """
    # Matched in place, never sliced: a long text with many '*' stays linear.
    i = pos + 1
    while i < len(code) and code[i].isspace():
        i += 1
    if i >= len(code):
        return False
    if code[i] == "[" or _NAME_CALL.match(code, i) or _REPLICAS_AHEAD.match(code, i):
        return True
    if code[i] != "(":
        return False
    depth = 0
    for j in range(i, len(code)):
        ch = code[j]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                inside = code[i + 1 : j]
                return _COUNT_TEXT.fullmatch(inside) is None or _NAME_CALL.search(inside) is not None
    return False


def _retag_star(token: Token) -> Token:
    if is_branch_product(_CODE.get(), token.start_pos or 0):
        return Token.new_borrow_pos("MUL", token.value, token)
    return token


_CALLBACKS = {"STAR": _retag_star}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """The LALR parser, built once per grammar and kept in the user's cache directory.

    Building the tables takes about 30 ms, a tenth of a whole `symparams` run, and the
    result depends only on the grammar, lark's version and the options: so the built
    parser is saved (Lark.save) under a name hashed from those, and later processes load
    it (Lark.load) in about 3 ms. A changed grammar hashes to a new file; a file that
    cannot be read is rebuilt. SYMPARAMS_NO_CACHE=1 turns the cache off.
    """
    grammar = grammar_text()
    path = parser_cache_path(grammar)
    if path is not None and _trusted(path):
        try:
            with open(path, "rb") as handle:
                # The saved options hold `_CALLBACKS` by reference (pickle names the function).
                return Lark.load(handle)
        except Exception:  # noqa: BLE001, S110  (missing, truncated or foreign: rebuild and replace it)
            pass
    parser = Lark(grammar, lexer_callbacks=_CALLBACKS, **PARSER_OPTIONS)
    if path is not None:
        _save_parser(parser, path)
    return parser


_SOURCE = Path(__file__).read_text("utf-8") if Path(__file__).is_file() else ""


def parser_cache_path(grammar: str) -> Path | None:
    """Where the parser built from `grammar` is cached, or None when caching is off.

    >>> parser_cache_path("start: A") != parser_cache_path("start: B")
    True
    """
    if os.environ.get("SYMPARAMS_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    # This module's own text is in the key too: the saved parser holds the lexer callbacks
    # by name, so a parser saved by another version of this module must not be loaded.
    key = "\0".join([grammar, lark.__version__, sys.version, repr(sorted(PARSER_OPTIONS.items())), _SOURCE])
    return Path(base) / "symparams" / f"parser-{hashlib.sha256(key.encode()).hexdigest()[:32]}.lark"


def _trusted(path: Path) -> bool:
    """Lark.load unpickles: read only a file this user owns that nobody else may write,
    in a directory nobody else may write."""
    try:
        for item in (path, path.parent):
            info = item.stat()
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                return False
    except (OSError, AttributeError):
        return False
    return True


def _save_parser(parser: Lark, path: Path) -> None:
    import tempfile  # only on the first run after a grammar change

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".parser-")
    except OSError:
        return  # a read-only home: run without the cache
    try:
        with os.fdopen(fd, "wb") as handle:
            parser.save(handle)
        os.replace(tmp, path)  # atomic: a concurrent reader sees no file or the whole file
    except OSError:
        with suppress(OSError):
            os.unlink(tmp)


def parse_program(text: str) -> S.Program:
    """Parse architecture text into a `syntax.Program`.

    >>> parse_program("I(784)-O(10)").chain.items[1].name
    'O'
    """
    _check_limits(text)
    code = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), text)
    token = _CODE.set(code)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        raise _translate(err, text) from None
    finally:
        _CODE.reset(token)
    _check_operator_depth(tree, text)
    try:
        return _ToSyntax().transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, SymparamsError):
            raise err.orig_exc.with_text(text) from None
        if isinstance(err.orig_exc, RecursionError):
            raise LimitError("the text is nested too deeply", text, 0) from None
        raise
    except RecursionError:
        raise LimitError("the text is nested too deeply", text, 0) from None


def _check_operator_depth(tree: lark.Tree, text: str) -> None:
    """Refuse an argument whose operators nest more than MAX_OPERATORS deep, at the
    operator where the limit is passed (walked with a stack: the tree may be deep)."""
    stack: list[tuple[object, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, lark.Tree):
            continue
        if node.data in _OPERATOR_RULES:
            depth += 1
            if depth > MAX_OPERATORS:
                start, end = _span(node.meta)
                raise LimitError(
                    f"an argument nests more than {MAX_OPERATORS} operators deep", text, start, end
                )
        stack.extend((child, depth) for child in node.children)


def _check_limits(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise LimitError(f"the text has {len(text):,} characters; the limit is {MAX_TEXT:,}")
    # Comments blanked, not removed, so that positions stay those of the text.
    code = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), text)
    depth = links = 0
    for i, ch in enumerate(code):
        if ch in "([":
            depth += 1
            if depth > MAX_NESTING:
                raise LimitError(f"brackets nest deeper than {MAX_NESTING} levels", text, i, i + 1)
        elif ch in ")]":
            depth -= 1
        elif ch == "-" and depth <= 0:
            # A '-' outside brackets joins two layers; a text with more of them than
            # the layers one build may make is refused before the parser reads it all.
            links += 1
            if links >= MAX_LAYERS:
                raise LimitError(f"the text chains more than {MAX_LAYERS:,} layers", text, i, i + 1)
    if not code.strip(" \t\r\n\f;"):
        raise ParseError("the text is empty: expected an architecture such as I(784)-O(10)")


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        return name
    if isinstance(pattern, lark.lexer.PatternStr):
        return f"'{pattern.value}'"
    return name.lower()


def _expected_words(names: set[str] | frozenset[str]) -> list[str]:
    words = {_describe_terminal(n) for n in names}
    for word in ("a definition", "a tensor binding"):
        if word in words:
            words.discard(word)
            words.add("a name")
    return sorted(words, key=lambda w: (_ORDER.index(w) if w in _ORDER else len(_ORDER), w))


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of input"
    return f"'{token.value}'"


def _translate(err: UnexpectedInput, text: str) -> ParseError:
    if isinstance(err, UnexpectedToken):
        token = err.token
        if token.type == "$END":
            pos = len(text.rstrip())
            return ParseError(
                "unexpected end of input", text, pos, pos + 1, _expected_words(err.accepts or err.expected)
            )
        pos = token.start_pos if token.start_pos is not None else 0
        end = token.end_pos if token.end_pos is not None else pos + 1
        missing = _missing_close(text, pos) if token.value == "(" else None
        if missing is not None:
            # `C(32,5-P(2)`: the '-' was read as a minus; the user meant a new layer.
            return ParseError(
                f"unexpected '-': a ')' is missing before the layer {missing[1]!r}",
                text,
                missing[0],
                missing[0] + 1,
                ["','", "')'"],
            )
        if token.type == "DEF_HEAD":
            message = "a definition must come before the chain, each on its own line or after ';'"
            return ParseError(message, text, pos, end)
        if token.type == "BIND_HEAD":
            message = (
                "a tensor binding 'name := ...' must come before the network's last line "
                "(a chain, or the names of its outputs), each on its own line or after ';'"
            )
            return ParseError(message, text, pos, end)
        return ParseError(
            f"unexpected {_describe_token(token)}",
            text,
            pos,
            end,
            _expected_words(err.accepts or err.expected),
        )
    if isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        hint = _lookalike_hint(char)
        return ParseError(
            f"unexpected character {char!r}{hint}", text, pos, pos + 1, _expected_words(err.allowed or set())
        )
    if isinstance(err, UnexpectedEOF):
        pos = len(text.rstrip())
        return ParseError("unexpected end of input", text, pos, pos + 1, _expected_words(set(err.expected)))
    return ParseError("cannot parse the text", text, 0)


_LOOKALIKES = {"−": "-", "–": "-", "—": "-", "×": "*", "·": "*", "（": "(", "）": ")", "，": ","}


def _missing_close(text: str, pos: int) -> tuple[int, str] | None:
    """Where `name(` follows a '-' inside an argument list, the ')' before it is missing."""
    match = re.search(r"-\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", text[:pos])
    if match is None or text[: match.start()].count("(") <= text[: match.start()].count(")"):
        return None
    return match.start(), match.group(1)


def _lookalike_hint(char: str) -> str:
    if char in _LOOKALIKES:
        return f" (did you mean {_LOOKALIKES[char]!r}?)"
    return ""


def _span(meta: object) -> tuple[int, int]:
    return getattr(meta, "start_pos", 0), getattr(meta, "end_pos", 0)


def _num(token: Token) -> S.Num:
    digits = token.value.replace("_", "")
    _check_digits(digits, token)
    return S.Num(token.start_pos or 0, token.end_pos or 0, int(digits))


def _binop_node(meta: object, op: str, children: list[S.Expr]) -> S.BinOp:
    left, right = children
    return S.BinOp(*_span(meta), op, left, right)


def _check_digits(digits: str, token: Token) -> None:
    """Numbers are exact up to MAX_DIGITS digits (limits.py); longer ones are refused
    before Python's int() is asked to read them (it stops at 4,300 digits)."""
    if len(digits) > MAX_DIGITS:
        raise LimitError(
            f"a number of {len(digits):,} digits; symparams computes with at most {MAX_DIGITS:,}",
            None,
            token.start_pos,
            token.end_pos,
        )


@v_args(meta=True)
class _ToSyntax(Transformer):
    """One method per tree shape, the lark-examples way."""

    def start(self, meta, children):
        *statements, last = children
        definitions = tuple(s for s in statements if isinstance(s, S.Definition))
        bindings = tuple(s for s in statements if isinstance(s, S.Binding))
        if isinstance(last, S.Chain):
            return S.Program(*_span(meta), definitions, last, bindings)
        return S.Program(*_span(meta), definitions, None, bindings, last)

    def binding(self, meta, children):
        head, body = children
        name = head.value.split(":")[0].strip()
        return S.Binding(head.start_pos, body.end, name, body, head.start_pos + len(name))

    def outputs(self, meta, children):
        return tuple(S.Name(t.start_pos, t.end_pos, t.value) for t in children)

    def definition(self, meta, children):
        head, body = children
        match = re.match(r"([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*=", head.value, re.DOTALL)
        assert match is not None  # the DEF_HEAD pattern guarantees the shape
        params = None
        if match.group(2) is not None:
            params = tuple(p.strip() for p in match.group(2).split(",") if p.strip())
            seen: set[str] = set()
            for p in params:
                if p in seen:
                    raise ParseError(
                        f"parameter {p!r} appears twice in definition {match.group(1)!r}",
                        None,
                        head.start_pos,
                        head.end_pos,
                    )
                seen.add(p)
        return S.Definition(head.start_pos, body.end, match.group(1), params, body)

    def chain(self, meta, children):
        return S.Chain(*_span(meta), tuple(children))

    def repeat(self, meta, children):
        body, count = children
        return S.Repeat(*_span(meta), body, count)

    def shared_repeat(self, meta, children):
        body, count = children
        return S.Repeat(*_span(meta), body, count, shared=True)

    def group(self, meta, children):
        return S.Group(*_span(meta), children[0])

    def single_branch(self, meta, children):
        return S.Branches(*_span(meta), "single", tuple(children))

    def concat(self, meta, children):
        return S.Branches(*_span(meta), "concat", tuple(children))

    def add(self, meta, children):
        return S.Branches(*_span(meta), "add", tuple(children))

    def mul(self, meta, children):
        return S.Branches(*_span(meta), "mul", tuple(c for c in children if not isinstance(c, Token)))

    def replicate(self, meta, children):
        token, body = children
        count = (
            _num(token) if token.value[0].isdigit() else S.Name(token.start_pos, token.end_pos, token.value)
        )
        start, end = _span(meta)
        # The branches node spans the brackets' contents; the replicate spans it all.
        return S.Replicate(start, end, count, body)

    def layer(self, meta, children):
        name, *args = children
        has_parens = meta.end_pos > name.end_pos
        wrapped = tuple(a if isinstance(a, S.Arg) else positional(a) for a in args)
        return S.Layer(*_span(meta), name.value, wrapped if has_parens else None)

    def kwarg(self, meta, children):
        name, value = children
        return S.Arg(name.start_pos, _end(value), name.value, value, name.end_pos)

    def tuple(self, meta, children):
        return S.TupleValue(*_span(meta), tuple(children))

    def number(self, meta, children):
        return _num(children[0])

    def decimal(self, meta, children):
        token = children[0]
        _check_digits(token.value.replace("_", "").replace(".", ""), token)
        return S.Dec(token.start_pos, token.end_pos, token.value.replace("_", ""))

    def symbol(self, meta, children):
        token = children[0]
        return S.Name(token.start_pos, token.end_pos, token.value)

    def add_expr(self, meta, children):
        return _binop_node(meta, "+", children)

    def sub_expr(self, meta, children):
        return _binop_node(meta, "-", children)

    def mul_expr(self, meta, children):
        return _binop_node(meta, "*", children)

    def div_expr(self, meta, children):
        return _binop_node(meta, "/", children)

    def pow_expr(self, meta, children):
        return _binop_node(meta, "^", children)

    def neg_expr(self, meta, children):
        return S.Neg(*_span(meta), children[0])


def _end(node: object) -> int:
    return getattr(node, "end", 0)


def positional(value: S.Value) -> S.Arg:
    """Wrap a bare value as a positional argument (lark gives values unwrapped)."""
    return S.Arg(value.start, value.end, None, value)
