"""LaTeX for formulas, conditions and layer text, through sympy's own printer.

sympy's `LatexPrinter` already prints floors as \\left\\lfloor ... \\right\\rfloor; the
subclass here only changes what a paper would write differently: symbol names
(`d_model` -> d_{\\mathrm{model}}, `alpha` -> \\alpha, `heads` -> \\mathit{heads}), digit
grouping in large numbers (12{,}106), and an integer coefficient kept outside a
product of sums (sympy would distribute it into the first factor).
"""

from __future__ import annotations

import re
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter, greek_letters_set, tex_greek_dictionary

from .shapes import Condition

_LETTERS_THEN_DIGITS = re.compile(r"([A-Za-z]+)([0-9]+)\Z")

# Characters of layer text that LaTeX reads as commands, in text mode and math mode.
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "_": r"\char95{}", "#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$",
    "{": r"\{", "}": r"\}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}
_MATH_ESCAPES = {
    "\\": r"\backslash{}", "_": r"\_", "#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$",
    "{": r"\{", "}": r"\}", "^": r"\hat{}", "~": r"\sim{}", " ": r"\ ",
    # Braced, an operator is an ordinary character: C(16,3,p=1) without math spacing.
    **{op: "{" + op + "}" for op in "-+=*/|,:;<>"},
}


# Greek names that LaTeX prints as their own letter: alpha -> \alpha, Gamma -> \Gamma,
# varphi -> \varphi. Left out, so that two names never print alike: capitals that are
# Latin letters (Alpha is an A), omicron (an o; LaTeX has no \omicron), and sympy's
# spellings lamda and khi (lambda and chi are names of their own).
_GREEK = {name: "\\" + name for name in greek_letters_set if name != "omicron"}
_GREEK.update({name: tex for name, tex in tex_greek_dictionary.items()
               if not tex.startswith("\\mathrm") and len(tex) > 1 and name not in ("lamda", "Lamda", "khi", "Khi")})


def _word(word: str, upright: bool) -> str:
    """One piece of a symbol name: a Greek letter, a single character, or a word."""
    if word in _GREEK:
        return _GREEK[word]
    if len(word) == 1 or word.isdigit():
        return word
    return (r"\mathrm{" if upright else r"\mathit{") + word + "}"


def symbol_latex(name: str) -> str:
    """A symbol name as a paper prints it: the first part italic, the rest a subscript.

    Subscripts that are words print upright, as d_{\\mathrm{model}} in the Transformer
    paper; a name ending in digits takes them as a subscript (k2 -> k_{2}).

    >>> symbol_latex("d_model"), symbol_latex("alpha"), symbol_latex("k2"), symbol_latex("n_heads")
    ('d_{\\\\mathrm{model}}', '\\\\alpha', 'k_{2}', 'n_{\\\\mathrm{heads}}')
    """
    main, *subs = name.split("_")
    subs = [s for s in subs if s]
    if not main:  # a leading underscore: nothing sensible to split on
        return r"\mathit{" + name.replace("_", r"\_") + "}"
    digits = _LETTERS_THEN_DIGITS.match(main)
    if digits and not subs:
        main, subs = digits.group(1), [digits.group(2)]
    head = _word(main, upright=False)
    if not subs:
        return head
    return head + "_{" + ",".join(_word(s, upright=True) for s in subs) + "}"


class SymparamsLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer with symparams' symbol names and number grouping.

    >>> from symparams.symbols import symbol
    >>> h = symbol("h")
    >>> SymparamsLatexPrinter().doprint(sympy.Mul(8192, sympy.floor(h / 4) - 2, h - 1) + 12106)
    '8192 \\\\left(h - 1\\\\right) \\\\left(\\\\left\\\\lfloor{\\\\frac{h}{4}}\\\\right\\\\rfloor - 2\\\\right) + 12{,}106'
    """

    printmethod = "_symparams_latex"

    def _print_Symbol(self, expr: sympy.Symbol, style: str = "plain") -> str:
        return symbol_latex(expr.name)

    def _print_Integer(self, expr: sympy.Integer) -> str:
        # Four-digit numbers stay as they are; longer ones group by thousands with a
        # math-mode comma that adds no space ({,}), the usual typesetting of counts.
        value = int(expr)
        if abs(value) < 10_000:
            return str(value)
        return f"{value:,}".replace(",", "{,}")

    def _print_Mul(self, expr: sympy.Mul) -> str:
        # sympy's printer rebuilds the product and so distributes 8192*(a - 2)*(b - 2)
        # into (8192a - 16384)(b - 2); keep the coefficient in front instead.
        coeff, rest = expr.as_coeff_Mul()
        if (coeff.is_Integer and abs(coeff) != 1 and rest.is_Mul and expr.is_commutative
                and any(f.is_Add for f in rest.args)):
            return f"{self._print(coeff)} {self._print_Mul(rest)}"
        return super()._print_Mul(expr)

    def _print_floor(self, expr: sympy.floor, exp: str | None = None) -> str:
        # The canonical floor holds h/2 - 5/2; a paper writes (h - 5)/2.
        return super()._print_floor(sympy.floor(sympy.together(expr.args[0]), evaluate=False), exp)

    def _print_ceiling(self, expr: sympy.ceiling, exp: str | None = None) -> str:
        return super()._print_ceiling(sympy.ceiling(sympy.together(expr.args[0]), evaluate=False), exp)


_PRINTER_SETTINGS: dict[str, Any] = {"mul_symbol": None}


def latex(expr: Any) -> str:
    """LaTeX of a count, shape axis or relation (no math delimiters).

    >>> from symparams.symbols import symbol
    >>> latex(symbol("alpha") * symbol("d_model") + 217706)
    '\\\\alpha d_{\\\\mathrm{model}} + 217{,}706'
    """
    return SymparamsLatexPrinter(_PRINTER_SETTINGS).doprint(sympy.sympify(expr, strict=True))


def condition_latex(cond: Condition | sympy.Basic) -> str:
    """A condition as a paper writes it: h \\geq 12, or h \\equiv 0 \\pmod{4}.

    >>> from symparams.symbols import symbol
    >>> condition_latex(sympy.Eq(sympy.Mod(symbol("h"), 4), 0))
    'h \\\\equiv 0 \\\\pmod{4}'
    """
    holds = cond.holds if isinstance(cond, Condition) else cond
    if isinstance(holds, sympy.Eq) and isinstance(holds.lhs, sympy.Mod) and holds.rhs.is_Integer:
        value, divisor = holds.lhs.args
        return f"{latex(value)} \\equiv {latex(holds.rhs)} \\pmod{{{latex(divisor)}}}"
    return latex(holds)


def escape_text(text: str) -> str:
    """Layer text for LaTeX text mode inside \\texttt.

    The underscore is the typewriter font's own glyph (slot 95 in OT1 and T1 alike),
    not \\_'s drawn rule, so that it copies out of the PDF as '_'.

    >>> escape_text("C(d_model,3) # 50% & {x}")
    'C(d\\\\char95{}model,3) \\\\# 50\\\\% \\\\& \\\\{x\\\\}'
    """
    return "".join(_TEXT_ESCAPES.get(ch, ch) for ch in text)


def escape_math(text: str) -> str:
    """Layer text for math mode (inside \\mathtt), which MathJax reads as well as LaTeX.

    >>> escape_math("C(d_model, 3)")
    'C(d\\\\_model{,}\\\\ 3)'
    """
    return "".join(_MATH_ESCAPES.get(ch, ch) for ch in text)
