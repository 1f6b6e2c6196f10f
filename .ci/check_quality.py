"""Fail CI when dev-set quality drops below the figures reported in docs/quality.md."""

import json
import sys

FLOOR = {"hit@1": 93.0, "hit@3": 97.9}  # reported: 93.09 / 97.93 (macro, 12 languages)
MAX_MEAN_CHARS = 1000.0

report = json.load(open(sys.argv[1]))
macro = report["macro"]
for f in report["files"]:
    print(f"{f['file']:<20} hit@1 {f['hit@1']:6.2f}  hit@3 {f['hit@3']:6.2f}  chars {f['mean_passage_chars']:7.1f}")
print(f"{'macro':<20} hit@1 {macro['hit@1']:6.2f}  hit@3 {macro['hit@3']:6.2f}  chars {macro['mean_passage_chars']:7.1f}")
bad = [f"{k} {macro[k]} < {v}" for k, v in FLOOR.items() if macro[k] < v]
if macro["mean_passage_chars"] > MAX_MEAN_CHARS:
    bad.append(f"mean passage length {macro['mean_passage_chars']} > {MAX_MEAN_CHARS}")
if bad:
    sys.exit("quality dropped: " + "; ".join(bad))
print("quality: ok")
