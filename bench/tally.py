"""The README's table of a differential run: `python bench/tally.py tally.jsonl [more.jsonl ...]`.

Each file is what `SYMPARAMS_TALLY` made `tests/test_random_chains.py` write: one JSON line per
example that passed, with what was compared (layers or top-level items accepted by both,
refusals by both, API limits counted with a note, the forms of a tree's items).
Several files (runs in parallel processes) add up.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

COLUMNS = ("chain torch", "tree torch", "chain keras", "tree keras")
ROWS = (
    ("models", "models built and compared"),
    ("accepted", "layers / top-level items accepted by both"),
    ("both_refuse", "refused by both"),
    ("noted", "refused by the framework, counted with a note"),
    ("defined", "trees written with definitions"),
)
FORMS = ("rep", "par", "cat", "sum", "seq")


def tally(paths: list[str]) -> dict[str, Counter]:
    columns: dict[str, Counter] = defaultdict(Counter)
    for path in paths:
        with open(path) as lines:
            for line in lines:
                record = json.loads(line)
                column = columns[record.pop("test")]
                column["models"] += 1
                column["accepted"] += record.get("layers", record.get("items", 0))
                column["defined"] += bool(record.get("defined"))
                for key in ("both_refuse", "noted"):
                    column[key] += record.get(key, 0)
                for form in FORMS:
                    column[form] += record.get(f"form_{form}", 0)
    return columns


def table(columns: dict[str, Counter]) -> str:
    head = "| | PyTorch chains | PyTorch trees | Keras chains | Keras trees |\n|---|---|---|---|---|"
    lines = [head]
    for key, label in ROWS:
        cells = [f"{columns[c][key]:,}" if key != "defined" or c.startswith("tree") else "" for c in COLUMNS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    per_framework = {
        fw: columns[f"chain {fw}"]["models"] + columns[f"tree {fw}"]["models"] for fw in ("torch", "keras")
    }
    forms = "; ".join(
        f"{name} " + ", ".join(f"{form} {columns[f'tree {fw}'][form]:,}" for form in FORMS)
        for fw, name in (("torch", "PyTorch"), ("keras", "Keras"))
    )
    lines.append("")
    lines.append(
        f"Models per framework: PyTorch {per_framework['torch']:,}, Keras {per_framework['keras']:,}."
    )
    lines.append(f"Forms among the trees' accepted items: {forms}.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(tally(sys.argv[1:])))
