"""`python -m bot eval` on a SQuAD file it writes itself: whole-file figures and the two halves."""

import json
import subprocess
import sys
from pathlib import Path

from bot.evaluate import evaluate, halves_of

ROOT = Path(__file__).resolve().parent.parent

TOPICS = [
    (
        "Volcanoes",
        "Mount Etna erupted in 1669 and destroyed the town of Catania.",
        "When did Mount Etna erupt?",
        "1669",
    ),
    (
        "Rivers",
        "The Danube flows through ten countries before reaching the Black Sea.",
        "Where does the Danube end?",
        "Black Sea",
    ),
    (
        "Birds",
        "Arctic terns migrate from pole to pole every year, the longest migration known.",
        "Which bird migrates from pole to pole?",
        "Arctic terns",
    ),
    (
        "Bridges",
        "The Golden Gate Bridge opened in 1937 across the strait into San Francisco Bay.",
        "When did the Golden Gate Bridge open?",
        "1937",
    ),
    (
        "Tea",
        "Green tea is made from leaves that were not oxidized, unlike black tea.",
        "Which tea is made from leaves that were not oxidized?",
        "Green tea",
    ),
]


def squad(path: Path, topics=TOPICS) -> Path:
    data = {
        "version": "1.1",
        "data": [
            {
                "title": title,
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": context.find(a)}]}
                        ],
                    }
                ],
            }
            for i, (title, context, q, a) in enumerate(topics)
        ],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_halves_split_the_articles_in_two():
    assert halves_of(24) == [("articles 0-11", range(12)), ("articles 12-23", range(12, 24))]
    assert halves_of(5) == [("articles 0-1", range(2)), ("articles 2-4", range(2, 5))]


def test_each_half_is_indexed_on_its_own(tmp_path):
    # the second half's passages are not in the first half's index: its questions find nothing there
    report = evaluate([squad(tmp_path / "s.json")], ks=(1, 3), halves=True)
    a, b = report.halves
    assert [f.passages for f in a.files] == [2] and [f.passages for f in b.files] == [3]
    assert a.files[0].questions + b.files[0].questions == report.files[0].questions == 5
    assert report.files[0].hit_at[1] == 100.0 and a.files[0].hit_at[1] == 100.0 and b.files[0].hit_at[1] == 100.0


def test_eval_halves_from_the_command_line(tmp_path):
    path = squad(tmp_path / "s.json")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "eval", str(path), "--k", "1,3", "--halves", "--json"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["macro"]["hit@1"] == 100.0 and report["macro"]["questions"] == 5
    assert [h["name"] for h in report["halves"]] == ["half A", "half B"]
    assert report["halves"][0]["files"][0]["file"] == "s.json[articles 0-1]"
    assert report["halves"][1]["macro"]["questions"] == 3
    table = subprocess.run(
        [sys.executable, "-m", "bot", "eval", str(path), "--k", "1", "--halves"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "== half A ==" in table and "== half B ==" in table and "== whole ==" in table


def test_a_question_whose_answer_is_elsewhere_is_a_miss(tmp_path):
    wrong = [(t, c, q, "Catania") if i == 1 else (t, c, q, a) for i, (t, c, q, a) in enumerate(TOPICS)]
    report = evaluate([squad(tmp_path / "s.json", wrong)], ks=(1,))
    assert report.files[0].hit_at[1] == 80.0


def test_an_answer_is_found_whatever_white_space_the_file_gave_it(tmp_path):
    # The loader makes every run of white space one space: an answer written with two spaces or a
    # no-break space is still what the user reads.
    spaced = [
        (t, c.replace("Black Sea", "Black  Sea").replace("Arctic terns", "Arctic\u00a0terns"), q, a.replace(" ", "  "))
        for t, c, q, a in TOPICS
    ]
    report = evaluate([squad(tmp_path / "s.json", spaced)], ks=(1,))
    assert report.files[0].hit_at[1] == 100.0
