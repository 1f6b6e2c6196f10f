"""Fail CI when dev-set quality drops below the figures reported in docs/quality.md.

Reads the JSON of `python -m bot eval ... --halves --json`: the whole files and each half (articles
0-11 and 12-23 of each file, each indexed on its own) are guarded separately.
"""

import json
import sys

# macro over the 12 languages, a little under the reported figures (docs/quality.md)
FLOORS = {
    "whole": {"hit@1": 95.5, "hit@3": 98.9, "min_hit@1": 94.2},  # reported: 95.58 / 98.98, lowest language 94.30
    "half A": {"hit@1": 96.2, "hit@3": 99.1},  # reported: 96.27 / 99.20
    "half B": {"hit@1": 95.7, "hit@3": 99.0},  # reported: 95.81 / 99.06
}
MAX_MEAN_CHARS = {"whole": 900.0}  # characters a hit shows, on average (reported: 836 for the top 5)


def check(part: dict, floors: dict) -> list[str]:
    macro = part["macro"]
    name = part.get("name", "whole")
    print(f"== {name}")
    for f in part["files"]:
        print(f"{f['file']:<36} hit@1 {f['hit@1']:6.2f}  hit@3 {f['hit@3']:6.2f}  chars {f['mean_passage_chars']:7.1f}")
    print(
        f"{'macro':<36} hit@1 {macro['hit@1']:6.2f}  hit@3 {macro['hit@3']:6.2f}  "
        f"chars {macro['mean_passage_chars']:7.1f}  lowest hit@1 {macro['min_hit@1']:6.2f}"
    )
    bad = [f"{name}: {k} {macro[k]} < {v}" for k, v in floors.items() if macro[k] < v]
    limit = MAX_MEAN_CHARS.get(name)
    if limit is not None and macro["mean_passage_chars"] > limit:
        bad.append(f"{name}: mean passage length {macro['mean_passage_chars']} > {limit}")
    return bad


report = json.load(open(sys.argv[1]))
parts = {p.get("name", "whole"): p for p in [report, *report.get("halves", [])]}
bad = [f"{name}: missing from the report" for name in FLOORS if name not in parts]
for name, part in parts.items():
    bad += check(part, FLOORS.get(name, {}))
if bad:
    sys.exit("quality dropped: " + "; ".join(bad))
print("quality: ok")
