"""The command line of compute and memory: --macs, --flops, --kv-cache, --train, their JSON
keys and LaTeX, solve targets with byte budgets, and one-line errors with exit 2."""

import json
import re
from pathlib import Path

import pytest

import symparams
from symparams.cli import main
from symparams.cli.common import UsageError, parse_count

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_kv_cache_of_llama3_8b_at_8192_tokens(capsys):
    code, out, _ = run(capsys, str(ROOT / "examples/llama3_8b.arch"), "--kv-cache", "--subs", "t=8192",
                       "--dtype", "bfloat16")
    assert code == 0
    assert "KV cache per token (bfloat16): 131,072 bytes (128.00 KiB)" in out  # 2·32·8·128·2
    assert "KV cache for the sequence (bfloat16): 1,073,741,824 bytes (1.00 GiB)" in out


def test_longest_context_of_llama7b_in_16_gib(capsys):
    code, out, _ = run(capsys, "solve", str(ROOT / "examples/llama7b.arch"), "--for", "t", "--kv-cache", "16GiB",
                       "--dtype", "float16", "--max")
    assert code == 0
    assert "Largest t with KV cache (float16 bytes) <= 17,179,869,184: t = 32768" in out  # 2³⁴ / (2·32·32·128·2)


def test_solve_with_flops_and_train_memory_targets(capsys):
    code, out, _ = run(capsys, "solve", "I(t,d)-TB(12,4*d)*12", "--subs", "t=2048", "--for", "d", "--flops", "1T",
                       "--max", "--json")
    d = json.loads(out)["value"]
    net = symparams.parse("I(t,d)-TB(12,4*d)*12")
    assert net.subs(t=2048, d=d).flops <= 10**12 < net.subs(t=2048, d=d + 12).flops
    code, out, _ = run(capsys, "solve", "I(t,64)-TB(4,256)", "--for", "t", "--train-memory", "4MiB", "--max")
    assert code == 0 and "Largest t" in out


@pytest.mark.parametrize("argv, words", [
    (["solve", "I(t,64)-MHA(4)", "--for", "t", "--kv-cache", "80XB", "--max"], "unknown unit 'XB'"),
    (["I(t,8)-L(16)-O(2)", "--kv-cache"], "KV cache asked of a network without attention"),
    (["solve", "I(n)-H(8)", "--for", "n", "--kv-cache", "1GB", "--max"], "without attention"),
    (["I(8)-O(2)", "--train", "--optimizer", "adamax"], "unknown optimizer 'adamax'"),
    (["I(8)-O(2)", "--zero", "2"], "go with --train"),
    (["I(8)-O(2)", "--train", "--zero", "2"], "--devices"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert code == 2 and words in err and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_budgets_take_decimal_and_binary_units():
    assert [parse_count(x, "--kv-cache") for x in ("80GB", "80GiB", "1T", "4MiB", "7B", "1.5M")] == [
        80 * 10**9, 80 * 2**30, 10**12, 4 * 2**20, 7 * 10**9, 1_500_000]
    with pytest.raises(UsageError, match="unknown unit"):
        parse_count("3 parsecs", "--kv-cache")


def test_json_keys(capsys):
    _, out, _ = run(capsys, "I(t,64)-TB(4,256,kv=2,window=W)*2", "--json", "--macs", "--flops", "--kv-cache",
                       "--train", "--subs", "W=16")
    data = json.loads(out)
    net = symparams.parse("I(t,64)-TB(4,256,kv=2,window=W)*2").subs(W=16)
    assert data["macs"] == str(net.macs) and data["flops"] == str(net.flops)
    assert data["train_flops"] == str(net.train_flops)
    assert data["train_flops_per_token"] == str(3 * 2 * (net.macs / net.layers[0].shape[0]).expand())
    assert data["kv_cache_bytes_per_token"] == 2 * 2 * 2 * 16 * 4  # layers · K and V · kv · k · float32
    assert data["kv_cache_bytes"] == "512*Min(16, t)"
    assert set(data["train_memory"]) == {"weights", "gradients", "optimizer", "activations", "total"}
    assert data["train_memory"]["optimizer"] == 8 * net.params


def test_latex_has_an_equation_per_figure(capsys):
    _, out, _ = run(capsys, "I(t,8)-MHA(2)", "--latex", "--macs", "--kv-cache")
    assert r"\mathrm{MACs} = 16 t^{2} + 256 t" in out  # 2·h·t²·k + t·(weights)
    assert r"\mathrm{KV} = 32 t" in out  # float16 by default: 2·8·t·2


def test_sweep_of_the_kv_cache_stops_at_the_window(capsys):
    code, out, _ = run(capsys, "sweep", str(ROOT / "examples/mistral_7b.arch"), "--vary", "t=2048,4096,8192",
                       "--kv-cache", "--dtype", "bf16", "--json")
    assert code == 0
    assert "268435456" in out and out.count("536870912") == 2


@pytest.mark.zoo
def test_readme_table_is_what_the_script_prints():
    import importlib.util

    spec = importlib.util.spec_from_file_location("compute_table", ROOT / "bench/compute_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- compute-table -->\n(.*?)\n<!-- /compute-table -->", readme, re.DOTALL).group(1)
    assert table == module.table()


def test_the_batch_that_fits(capsys):
    code, out, _ = run(capsys, "solve", str(ROOT / "examples/gpt2.arch"), "--subs", "t=1024", "--for", "batch",
                       "--batch-memory", "80GB", "--dtype", "bf16", "--max", "--json")
    assert code == 0
    batch = json.loads(out)["value"]
    from symparams.analysis.compute import train_memory

    net = symparams.parse((ROOT / "examples/gpt2.arch").read_text()).subs(t=1024)
    assert train_memory(net, "adam", "bfloat16", batch=batch).total <= 80 * 10**9
    assert train_memory(net, "adam", "bfloat16", batch=batch + 1).total > 80 * 10**9
    _code, out, _ = run(capsys, str(ROOT / "examples/gpt2.arch"), "--subs", "t=1024", "--train", "--dtype", "bf16",
                       "--batch", str(batch))
    assert f"batch {batch}" in out
    assert f"total: {int(train_memory(net, 'adam', 'bfloat16', batch=batch).total):,} bytes" in out


def test_plot_of_the_kv_cache(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "kv.png"
    code, _, err = run(capsys, "plot", str(ROOT / "examples/gemma2_9b.arch"), "--vary", "t=1024..8192:1024",
                       "--what", "kv_cache", "--dtype", "bf16", "--out", str(out))
    assert code == 0, err
    assert out.stat().st_size > 0
