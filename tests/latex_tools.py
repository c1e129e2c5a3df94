"""Compile LaTeX with the real pdflatex and look at what came out (report tests).

pdflatex and pdftoppm come from Debian's texlive and poppler, installed by .ci/run.
Where they are missing the tests skip, except under CI=true, where a missing tool is a
failure: a report test that silently never runs proves nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

# A box wider than its line by less than this is invisible in print; wider is a defect.
OVERFULL_LIMIT_PT = 3.0

DOCUMENT = r"""\documentclass{article}
\usepackage{amsmath,amssymb,booktabs,array,longtable}
%s
\begin{document}
%s
\end{document}
"""


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed (Debian: texlive-latex-extra poppler-utils)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def log_problems(log: str) -> list[str]:
    """The lines of a pdflatex log that mean the document is wrong or ugly."""
    problems = []
    for line in log.splitlines():
        if (line.startswith("!") or "Undefined control sequence" in line or "Missing character" in line
                or "LaTeX Warning" in line or ("Package" in line and "Warning" in line)):
            problems.append(line)
        else:
            overfull = re.match(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", line)
            if overfull and float(overfull.group(1)) > OVERFULL_LIMIT_PT:
                problems.append(line)
    return problems


def compile_pdf(tex: str, folder: Path, name: str = "report") -> Path:
    """Run pdflatex on `tex`; fail on any error, undefined command, warning or wide box."""
    require_tools("pdflatex")
    source = folder / f"{name}.tex"
    source.write_text(tex, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", source.name],
        cwd=folder, capture_output=True, text=True, timeout=120, encoding="utf-8", errors="replace", check=False,
    )
    log = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
    problems = log_problems(log)
    assert run.returncode == 0 and not problems, f"pdflatex failed on:\n{tex}\n\n" + "\n".join(problems)
    return folder / f"{name}.pdf"


def render_png(pdf: Path, dpi: int = 60) -> list[Path]:
    """Every page of `pdf` as a PNG (pdftoppm), for the tests and for a person to look at."""
    require_tools("pdftoppm")
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True, timeout=120)
    return sorted(pdf.parent.glob(f"{prefix.name}-*.png"))


def ink(png: Path) -> float:
    """The fraction of a page's pixels that are not white."""
    import matplotlib.image

    pixels = matplotlib.image.imread(str(png))
    gray = pixels[..., :3].mean(axis=-1) if pixels.ndim == 3 else pixels
    return float((gray < 0.5).mean())


def pdf_text(pdf: Path) -> str:
    """The text of the PDF (pdftotext), with all whitespace removed, to find numbers in."""
    require_tools("pdftotext")
    run = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60)
    return re.sub(r"\s+", "", run.stdout)


# The page of nbconvert's LaTeX/PDF export (its base template sets one-inch margins),
# where a notebook's text/latex output is pasted as it is.
NBCONVERT_PAGE = r"\usepackage[margin=1in]{geometry}"


def compile_fragment(body: str, folder: Path, name: str = "fragment", preamble: str = "") -> Path:
    """A LaTeX fragment compiled inside a minimal article."""
    return compile_pdf(DOCUMENT % (preamble, body), folder, name)
