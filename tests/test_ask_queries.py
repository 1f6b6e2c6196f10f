"""`ask --queries FILE --json`: exactly one output line per input line, whatever the lines hold."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.settings import SAMPLE_CORPUS

AMBASSADOR = "Who is the Belarusian ambassador to Russia?"


def run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--corpus", str(SAMPLE_CORPUS), *args],
        env={**env, "NO_COLOR": "1"},
        input=input,
        capture_output=True,
        timeout=120,
    )


def test_one_line_out_per_line_in_with_odd_separators_and_blank_lines(tmp_path):
    lines = [
        AMBASSADOR,
        "",
        "road\x1cmaps\x1dsigned\x1e?",
        "gas\x85price\u2028integration\u2029Putin",
        "tab\vvertical\fform feed",
        "   ",
        "zzzz qqqq",
        "Lukashenka Putin\r",  # a Windows line end
    ]
    qfile = tmp_path / "q.txt"
    qfile.write_bytes("\n".join(lines).encode() + b"\n")
    out = run("--queries", str(qfile), "--json", "--k", "2")
    assert out.returncode == 0, out.stderr
    got = out.stdout.decode("utf-8").split("\n")
    assert got[-1] == "" and len(got) - 1 == len(lines)
    assert len(out.stdout.decode("utf-8").splitlines()) == len(lines)  # no Unicode line break inside a line
    answers = [json.loads(line) for line in got[:-1]]
    assert [a["query"] for a in answers] == [line.strip() for line in lines]
    assert "Syamashka" in answers[0]["hits"][0]["text"]
    assert answers[1]["hits"] == [] and answers[5]["hits"] == [] and answers[6]["hits"] == []
    assert answers[2]["hits"] and answers[3]["hits"] and answers[7]["hits"]


def test_questions_from_standard_input():
    out = run("--queries", "-", "--json", input=f"{AMBASSADOR}\n\nroad maps".encode())
    assert out.returncode == 0, out.stderr
    assert [json.loads(line)["query"] for line in out.stdout.decode().splitlines()] == [AMBASSADOR, "", "road maps"]


def test_an_undecodable_file_is_one_line_and_status_2(tmp_path):
    qfile = tmp_path / "latin1.txt"
    qfile.write_bytes("Qui est l'ambassadeur?\nCafé crème\n".encode("latin-1"))
    out = run("--queries", str(qfile), "--json")
    assert out.returncode == 2
    assert out.stdout == b""
    err = out.stderr.decode().strip()
    assert "\n" not in err and "Traceback" not in err
    assert err == f"error: {qfile} is not UTF-8 text (byte 0xe9 at offset 26); save it as UTF-8"


def test_a_positional_question_with_undecodable_bytes_is_answered():
    out = run("--json", "ambassador \udce9")  # what Python makes of a non-UTF-8 byte in argv
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["query"] == "ambassador \ufffd"


LINE = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=30)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.one_of(LINE, st.sampled_from(["", " ", AMBASSADOR, "road maps", "\u2028", "\x85x"])), max_size=8),
    trailing_newline=st.booleans(),
)
def test_any_questions_file_gives_one_json_line_per_line(tmp_path_factory, lines, trailing_newline):
    qfile = tmp_path_factory.mktemp("q") / "q.txt"
    text = "\n".join(lines) + ("\n" if trailing_newline and lines else "")
    qfile.write_bytes(text.encode("utf-8"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["ask", "--corpus", str(SAMPLE_CORPUS), "--queries", str(qfile), "--json", "--k", "1"])
    assert status == 0
    expected = text.split("\n")
    if expected[-1] == "":
        expected.pop()
    got = out.getvalue().split("\n")
    assert got.pop() == ""
    assert len(got) == len(expected) == len(out.getvalue().splitlines())
    for line, question in zip(got, expected):
        answer = json.loads(line)
        assert answer["query"] == question.removesuffix("\r").strip()
        assert len(answer["hits"]) <= 1
