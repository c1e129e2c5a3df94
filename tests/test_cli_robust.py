"""The command line under hostile conditions (issue 8): bad files, bad bytes, bad
--subs, a reader that goes away, Ctrl-C. Bad input exits 2 with one clear line on
stderr and never a traceback; a broken pipe exits 0 quietly (the reader chose to stop,
as `head` does); Ctrl-C exits 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symparams.cli import main

LENET = "I(28,28,1)-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)"
# A table of some 3,000 rows (over 200 KB), more than a pipe holds.
BIG = "I(64)-" + "-".join(["H(64)-relu"] * 1500) + "-O(10)"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_clear_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def console() -> list[str]:
    """The installed `symparams` script beside this interpreter, else `python -m symparams`."""
    script = Path(sys.executable).parent / "symparams"
    return [str(script)] if script.exists() else [sys.executable, "-m", "symparams"]


# ---------------------------------------------------------------- files and bytes
def test_a_directory_as_arch(tmp_path, capsys):
    code, out, err = run([str(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert "directory" in one_clear_line(err)


def test_a_missing_arch_file(tmp_path, capsys):
    code, _, err = run([str(tmp_path / "missing.arch")], capsys)
    assert code == 2 and "cannot read" in one_clear_line(err)


def test_a_path_through_a_file(tmp_path, capsys):
    (tmp_path / "file.arch").write_text(LENET)
    code, _, err = run([str(tmp_path / "file.arch" / "inner.arch")], capsys)
    assert code == 2 and "cannot read" in one_clear_line(err)


def test_a_dangling_symlink(tmp_path, capsys):
    link = tmp_path / "link.arch"
    link.symlink_to(tmp_path / "nowhere.arch")
    code, _, err = run([str(link)], capsys)
    assert code == 2 and "cannot read" in one_clear_line(err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file(tmp_path, capsys):
    path = tmp_path / "secret.arch"
    path.write_text(LENET)
    path.chmod(0)
    code, _, err = run([str(path)], capsys)
    assert code == 2 and "cannot read" in one_clear_line(err)


@pytest.mark.parametrize("data", [b"\xff\xfe\x00I(784)", b"I(784)-O(10)\x80", "I(784)-O(10)".encode("utf-16"),
                                  b"\xc3\x28"])
def test_non_utf8_files(tmp_path, capsys, data):
    path = tmp_path / "bad.arch"
    path.write_bytes(data)
    code, _, err = run([str(path)], capsys)
    assert code == 2 and "UTF-8" in one_clear_line(err)


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", b"\xef\xbb\xbf", b"# only a comment\n", b";;\n"])
def test_empty_files(tmp_path, capsys, data):
    path = tmp_path / "empty.arch"
    path.write_bytes(data)
    code, _, err = run([str(path)], capsys)
    assert code == 2 and "empty" in one_clear_line(err)


def test_non_utf8_standard_input():
    done = subprocess.run([*console(), "-"], input=b"I(784)\xff-O(10)", capture_output=True, timeout=120)
    assert done.returncode == 2
    assert "UTF-8" in one_clear_line(done.stderr.decode())


def test_endless_input_is_cut_off_not_swallowed(capsys):
    """`symparams /dev/zero` and `cat /dev/zero | symparams -` stop at a bound."""
    code, _, err = run(["/dev/zero"], capsys)
    assert code == 2 and "bytes" in one_clear_line(err)
    done = subprocess.run([*console(), "-"], input=b"I" * 5_000_000, capture_output=True, timeout=120)
    assert done.returncode == 2 and "bytes" in one_clear_line(done.stderr.decode())


def test_a_utf8_file_with_crlf_and_a_byte_order_mark(tmp_path, capsys):
    path = tmp_path / "lenet.arch"
    path.write_bytes(b"\xef\xbb\xbf" + LENET.replace("-", "\r\n-").encode())
    code, out, _ = run([str(path)], capsys)
    assert code == 0 and "217,706" in out


# ---------------------------------------------------------------- --subs
@pytest.mark.parametrize("subs", [
    "h", "=28", "28=h", "h=", "h=abc", "h=0", "h=-1", "h=1.5", "h=2^3", "h=2**3", "h=1e3", "h=0x1c",
    "h w=3", "h=28;w=3", "__import__('os')=1", "h=__import__('os')", "h=" + "9" * 5000, "h=" + "9" * 700,
    "zzz=3", "H=28", "c=3,zzz=4",
], ids=lambda subs: subs if len(subs) < 30 else f"{subs[:10]}...({len(subs)} chars)")
def test_bad_subs_exit_2_with_one_line(capsys, subs):
    code, out, err = run(["I-C(32,5)-P(2)-H(256)-O(10)", "--subs", subs], capsys)
    assert code == 2 and out == ""
    assert "subs" in one_clear_line(err) or "digits" in err


def test_good_subs_still_work(capsys):
    code, out, _ = run(["I-C(32,5)-P(2)-C(32,3)-P(2)-H(256)-O(10)", "--subs", "h=28,w=28", "--subs", "c=1"],
                       capsys)
    assert code == 0 and "217,706" in out


# ---------------------------------------------------------------- a reader that goes away
def test_broken_pipe_exits_quietly():
    """`symparams BIG | head -1`: the table is cut short, symparams says nothing."""
    proc = subprocess.Popen([*console(), BIG], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away after one line, as head -1 does
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert first
    assert code == 0, err
    assert err == ""


def test_broken_pipe_through_a_shell_pipeline():
    command = f"{' '.join(map(repr, console()))} {BIG!r} --json | head -c 10; exit ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", command], capture_output=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith(b"{")
    assert done.stderr == b""


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_the_whole_output_arrives_before_the_process_ends(extra):
    """The console script ends with os._exit (cli.hard_exit, no teardown): everything
    written must be flushed first, through a pipe larger than the pipe's buffer."""
    done = subprocess.run([*console(), BIG, *extra], capture_output=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == main_output([BIG, *extra]).encode()


def test_the_exit_code_of_an_error_survives_the_hard_exit():
    done = subprocess.run([*console(), "I-C(8,3"], capture_output=True, timeout=120)
    assert done.returncode == 2 and done.stdout == b""
    assert "Expected one of" in done.stderr.decode()


def main_output(argv: list[str]) -> str:
    """What main() writes to standard output for `argv`, in this process."""
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(argv) == 0
    return buffer.getvalue()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_an_unwritable_output_is_one_line_not_a_traceback(extra):
    with open("/dev/full", "wb") as full:
        done = subprocess.run([*console(), LENET, *extra], stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert done.returncode == 2
    assert "No space left" in one_clear_line(done.stderr.decode())


def test_a_closed_output_is_one_line_not_a_traceback():
    done = subprocess.run(["bash", "-c", f"{' '.join(map(repr, console()))} {LENET!r} >&-"],
                          stderr=subprocess.PIPE, timeout=120)
    assert done.returncode == 2
    assert "closed" in one_clear_line(done.stderr.decode())


# ---------------------------------------------------------------- Ctrl-C
def _interrupt_when_reading(tmp_path: Path) -> subprocess.CompletedProcess:
    """Start symparams on a FIFO: once it has opened the FIFO it is past start-up and
    blocked reading, and SIGINT lands in the middle of its work."""
    fifo = tmp_path / "slow.arch"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*console(), str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    writer = None
    while writer is None and time.monotonic() < deadline:
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # succeeds once a reader has it open
        except OSError:
            time.sleep(0.05)
    assert writer is not None, "symparams never opened the FIFO"
    os.write(writer, b"I(28,28,1)-")
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    os.close(writer)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_ctrl_c_while_working_exits_130_without_a_traceback(tmp_path):
    done = _interrupt_when_reading(tmp_path)
    assert done.returncode == 130
    err = done.stderr.decode()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert one_clear_line(err)


@pytest.mark.parametrize("delay", [0.5, 1.5])
def test_ctrl_c_at_any_moment_of_start_up(delay):
    """SIGINT while sympy loads or while waiting on stdin. (Earlier than about 0.1 s it
    lands in Python's own start-up, before any code of ours, where nothing can catch it.)"""
    proc = subprocess.Popen([*console(), "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (130, -signal.SIGINT), err  # -2: killed before Python could run any code
    assert b"Traceback" not in err
