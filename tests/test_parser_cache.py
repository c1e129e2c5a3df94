"""The built parser is cached on disk per grammar, and the cache can never change a result:
a cached parser parses and reports errors exactly as a freshly built one, a damaged file
is rebuilt, a changed grammar gets its own file, and the cache can be turned off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from symparams.base.errors import ParseError
from symparams.language import parsing
from symparams.language import syntax as S

TEXTS = ["I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)",
         "blk(k) = [C(k,3,p=1) + id]; I(h,w,c)-blk(64)*n-GAP-O(10)",
         "I(t)-E(50257,768)-PE(1024)-TB(12,3072)*12-LN-O(50257,bias=false,tied=true)"]
BAD = ["I-C(32,5-P(2)", "I(3)-", "I(3)-H(4))", "I(3)-H(4) # x\n-"]


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("SYMPARAMS_NO_CACHE", raising=False)
    parsing._parser.cache_clear()
    yield tmp_path / "symparams"
    parsing._parser.cache_clear()


def outcomes() -> list[object]:
    results: list[object] = [repr(parsing.parse_program(t)) for t in TEXTS]
    for text in BAD:
        with pytest.raises(ParseError) as err:
            parsing.parse_program(text)
        results.append(str(err.value))
    return results


def test_cached_parser_behaves_as_a_fresh_one(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYMPARAMS_NO_CACHE", "1")
    fresh = outcomes()
    assert not cache_home.exists()

    monkeypatch.delenv("SYMPARAMS_NO_CACHE")
    parsing._parser.cache_clear()
    first = outcomes()  # builds and saves
    files = list(cache_home.glob("parser-*.lark"))
    assert len(files) == 1 and files[0] == parsing.parser_cache_path(parsing.grammar_text())

    parsing._parser.cache_clear()
    loaded = outcomes()  # loads the saved file
    assert fresh == first == loaded


def last_layer(text: str) -> str:
    item = parsing.parse_program(text).chain.items[-1]
    assert isinstance(item, S.Layer)
    return item.name


def test_damaged_cache_file_is_rebuilt(cache_home: Path) -> None:
    path = parsing.parser_cache_path(parsing.grammar_text())
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a parser")
    assert last_layer(TEXTS[0]) == "O"
    assert path.read_bytes() != b"not a parser"  # replaced by a good one
    parsing._parser.cache_clear()
    assert last_layer(TEXTS[0]) == "O"


def test_a_changed_grammar_never_reads_the_old_file(cache_home: Path) -> None:
    grammar = parsing.grammar_text()
    changed = grammar.replace("_SEMI: \";\"", "_SEMI: \";\" | \"!\"")
    assert changed != grammar
    assert parsing.parser_cache_path(changed) != parsing.parser_cache_path(grammar)
    assert parsing.parser_cache_path(grammar + "\n") != parsing.parser_cache_path(grammar)


class _Canary:
    """Unpickling this writes a file: what a planted cache file could do."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path(self.path).write_text, ("pwned",))


def test_a_cache_file_others_may_write_is_never_unpickled(cache_home: Path, tmp_path: Path) -> None:
    import pickle

    canary = tmp_path / "canary"
    path = parsing.parser_cache_path(parsing.grammar_text())
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(_Canary(str(canary))))
    path.chmod(0o666)
    parser = parsing._parser()
    assert not canary.exists()
    assert parser.parse("I(3)-H(4)") is not None
