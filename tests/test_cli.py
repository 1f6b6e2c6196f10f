"""The command line as a user runs it: a real subprocess over real files."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=ROOT, env=None, input=None):
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ask_json_answers_from_the_bundled_corpus():
    out = run("ask", "--json", "Who is the Belarusian ambassador to Russia?")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["query"] == "Who is the Belarusian ambassador to Russia?"
    top = answer["hits"][0]
    assert "Uladzimir Syamashka" in top["text"]
    assert top["rank"] == 1 and top["score"] > 0
    assert top["article"]["author"] == "Vitaut Siuchyk" and top["article"]["source"] == "Belsat TV"
    assert set(top["article"]) == {"id", "title", "author", "source", "url", "published", "lang"}
    assert top["article"]["url"] is None
    assert 1 <= top["position"]["index"] <= top["position"]["count"]


def test_ask_plain_text_shows_attribution():
    out = run("ask", "Who is the Belarusian ambassador to Russia?")
    assert out.returncode == 0
    assert "Syamashka" in out.stdout and "Vitaut Siuchyk, Belsat TV" in out.stdout and "¶" in out.stdout


def test_queries_file_gives_one_json_line_per_question_in_order(tmp_path):
    qfile = tmp_path / "q.txt"
    qfile.write_text("What about the gas price?\nzzzz qqqq\nWho is the Belarusian ambassador to Russia?\n")
    out = run("ask", "--queries", str(qfile), "--json", "--k", "2")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a["query"] for a in lines] == [
        "What about the gas price?",
        "zzzz qqqq",
        "Who is the Belarusian ambassador to Russia?",
    ]
    assert lines[1]["hits"] == []
    assert all(len(a["hits"]) <= 2 for a in lines)


def test_corpus_from_environment_and_index_summary_lists_skipped_files(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Title: Wolves\n\nWolves returned to the forest of Bialowieza.\n")
    (corpus / "bad.json").write_text("{not json")
    (corpus / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    out = run("index", env={"BOT_CORPUS_DIR": str(corpus), "BOT_INDEX_DIR": str(tmp_path / "idx")})
    assert out.returncode == 0, out.stderr
    assert "articles 1" in out.stdout
    assert "bad.json" in out.stdout and "bin.txt" in out.stdout
    ask = run("ask", "--json", "wolves", env={"BOT_CORPUS_DIR": str(corpus), "BOT_INDEX_DIR": str(tmp_path / "idx")})
    assert json.loads(ask.stdout)["hits"][0]["article"]["title"] == "Wolves"


def test_empty_corpus_is_a_clear_error(tmp_path):
    out = run("ask", "--corpus", str(tmp_path), "anything")
    assert out.returncode != 0
    assert "no article" in out.stderr.lower()
    assert "Traceback" not in out.stderr


def test_chat_answers_then_quits_on_end_of_input():
    out = run("chat", input="Who is the Belarusian ambassador to Russia?\n")
    assert out.returncode == 0
    assert "Syamashka" in out.stdout


def test_eval_reports_hit_rates_on_a_squad_file(tmp_path):
    squad = {
        "version": "1.1",
        "data": [
            {
                "title": "Wolves",
                "paragraphs": [
                    {
                        "context": "Grey wolves returned to the Bialowieza forest in 2010. "
                        "Rangers counted forty animals.",
                        "qas": [
                            {
                                "id": "1",
                                "question": "How many wolves did rangers count?",
                                "answers": [{"text": "forty", "answer_start": 0}],
                            }
                        ],
                    },
                    {
                        "context": "The lynx population stayed small, with about ten cats seen each winter.",
                        "qas": [
                            {
                                "id": "2",
                                "question": "How many lynx cats are seen each winter?",
                                "answers": [{"text": "ten", "answer_start": 0}],
                            },
                            {
                                "id": "3",
                                "question": "Where did the grey wolves return?",
                                "answers": [{"text": "Bialowieza forest", "answer_start": 0}],
                            },
                        ],
                    },
                ],
            }
        ],
    }
    f = tmp_path / "tiny.json"
    f.write_text(json.dumps(squad))
    out = run("eval", str(f), "--k", "1,3", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    row = report["files"][0]
    assert row["questions"] == 3 and row["hit@1"] == 100.0 and row["hit@3"] == 100.0
    assert row["mrr@10"] == 1.0 and row["mean_passage_chars"] > 0
    assert report["macro"]["hit@1"] == 100.0


QUESTION = "Who is the Belarusian ambassador to Russia?"


def test_answers_from_the_bundled_sample_in_any_folder(tmp_path):
    """An installed package answers out of the box: the sample ships inside it (run from an empty folder,
    so the installed package is what runs, not this checkout)."""
    env = {"PYTHONPATH": ""}
    out = run("ask", "--json", QUESTION, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert "Uladzimir Syamashka" in json.loads(out.stdout)["hits"][0]["text"]
    assert list(tmp_path.iterdir()) == []  # nothing written into the user's folder


def _corpus(folder: Path, title: str, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text(f"Title: {title}\n\n{text}\n", encoding="utf-8")
    return folder


def test_corpus_choice_flag_then_environment_then_local_folder(tmp_path):
    _corpus(tmp_path / "corpus", "Local", "Otters swim in the local river.")
    env_corpus = _corpus(tmp_path / "env", "Env", "Otters swim in the environment lake.")
    flag_corpus = _corpus(tmp_path / "flag", "Flag", "Otters swim in the flagged pond.")

    def title(*args, env=None):
        out = run("ask", "--json", *args, "otters", cwd=tmp_path, env={"PYTHONPATH": "", **(env or {})})
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)["hits"][0]["article"]["title"]

    assert title() == "Local"  # ./corpus beats the bundled sample
    assert title(env={"BOT_CORPUS_DIR": str(env_corpus)}) == "Env"
    assert title("--corpus", str(flag_corpus), env={"BOT_CORPUS_DIR": str(env_corpus)}) == "Flag"


# --- the parser checks every option: one line, exit status 2, no traceback ------------------------


def _usage_error(capsys, *argv: str) -> str:
    from bot.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def feed(tmp_path) -> Path:
    path = tmp_path / "feed.jsonl"
    path.write_text('{"title": "A", "text": "One."}\n{"title": "B", "text": "Two."}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "argv, says",
    [
        (["ask", "--k", "0", "q"], "--k: must be from 1 to"),
        (["ask", "--k", "-1", "q"], "--k: must be from 1 to"),
        (["ask", "--k", "three", "q"], "expected a whole number"),
        (["chat", "--k", "0"], "--k: must be from 1 to"),
        (["eval", "--k", "0,1", "x.json"], "cut-offs are whole numbers from 1"),
        (["eval", "--k", "a", "x.json"], "cut-offs are whole numbers from 1"),
        (["eval", "--passage-chars", "5", "x.json"], "--passage-chars: must be from 100 to 5000"),
        (["eval", "nope.json"], "nope.json: no such file"),
        (["ask", "--corpus", "no/such/folder", "q"], "no/such/folder: no such file or folder"),
        (["ask", "--queries", "no-such-questions.txt"], "no-such-questions.txt: no such file"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_options_are_usage_errors(capsys, argv, says):
    assert says in _usage_error(capsys, *argv)


def test_eval_refuses_a_file_that_is_not_squad(capsys, feed, tmp_path):
    assert "feed.jsonl: not a SQuAD v1.1 file" in _usage_error(capsys, "eval", str(feed))
    other = tmp_path / "list.json"
    other.write_text('[{"title": "A", "text": "One."}]', encoding="utf-8")
    assert "list.json: not a SQuAD v1.1 file" in _usage_error(capsys, "eval", str(other))
    assert "is a folder" in _usage_error(capsys, "eval", str(tmp_path))


def test_version_and_verbose_after_the_command():
    import bot

    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"corpus-bot {bot.__version__}"
    after = run("ask", "-v", "--json", QUESTION)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["hits"]
    # -v turned logging on, and log lines carry a timestamp
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO bot\.", after.stderr, re.M), after.stderr
    no_token = run("run", "-v")
    assert no_token.returncode == 2 and "BOT_TOKEN is not set" in no_token.stderr
    assert "unrecognized" not in no_token.stderr


def test_the_parser_loads_none_of_the_core():
    """`--version`, `--help` and usage errors answer at once: building the parser imports no engine, no
    pydantic, no numpy (each command imports what it needs when it runs)."""
    heavy = "numpy pydantic telegram bot.analysis bot.search bot.settings bot.service bot.bench.synthetic".split()
    code = (
        "import sys; from bot.cli import build_parser; build_parser()\n"
        f"print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_errors_at_run_time_are_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = run("ask", "--corpus", str(empty), "anything")
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and out.stderr.startswith("error: ")


def test_a_reader_that_leaves_early_gets_no_traceback():
    """`corpus-bot ask ... | head -c 0`: the pipe is closed before the answer is written."""
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", QUESTION],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and b"Traceback" not in err and b"Exception ignored" not in err, err


def test_eval_refuses_a_squad_file_without_text_to_search(capsys, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"data": [{"paragraphs": [{"context": " ", "qas": [{"question": "q?"}]}]}]}))
    assert "without a paragraph that has text and questions" in _usage_error(capsys, "eval", str(empty))
