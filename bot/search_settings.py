"""The settings that shape an index and its answers: passage size, the analysis chain, BM25 scoring.

Apart from `bot.search` so that the build pipeline and the store can use them without the Engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.analysis import AnalysisSettings
from bot.index import ScoringSettings
from bot.passages import DEFAULT_TARGET_CHARS

# The default BM25 variant and parameters: BM25+ as its paper defines it scored best on the
# XQuAD dev set (docs/quality.md), ahead of rank-bm25's BM25Okapi defaults.
DEFAULT_SCORING = ScoringSettings(variant="plus", k1=1.5, b=0.75, delta=1.0)


@dataclass(frozen=True)
class SearchSettings:
    passage_chars: int = DEFAULT_TARGET_CHARS
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    scoring: ScoringSettings = DEFAULT_SCORING

    def fingerprint(self) -> str:
        return f"passages={self.passage_chars} {self.analysis.fingerprint()} {self.scoring.fingerprint()}"

    @classmethod
    def from_dict(cls, d: dict) -> SearchSettings:
        """The settings as `dataclasses.asdict` wrote them (a manifest); KeyError/TypeError/ValueError if not."""
        return cls(
            passage_chars=d["passage_chars"],
            analysis=AnalysisSettings(**d["analysis"]),
            scoring=ScoringSettings(**d["scoring"]),
        )
