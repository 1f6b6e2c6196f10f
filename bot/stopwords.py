"""Stop words per language (ISO 639-1 code).

The lists come from stopwords-iso (the `stopwordsiso` package), which covers every language we
analyze except Belarusian; that one is kept here. Measured on the XQuAD dev set, these lists beat the
smaller Snowball-style lists and no stop words at all (see docs/quality.md).
"""

from __future__ import annotations

from functools import lru_cache

# Belarusian function words (pronouns, prepositions, conjunctions, particles, forms of "to be").
BELARUSIAN = """
а аб або адзін адна адно але альбо ані апроч аж без бо быў была было былі быць вам вас ваш ваша
ваша вашы вось вы гэта гэты гэтая гэтае гэтыя гэтага гэтай гэтым да дзе дзеля для до ён ёй ёсць
ім іх калі каб каля кім які якая якое якія яго яе як і ізноў з за зноў ля мне мы мяне мой мая маё
мае на над нават нам нас наш наша нашы не нi ні ніж но па пад паміж перад пра праз пры сам сама
само самі свой сваё свая свае сябе так таксама такі тады там толькі ты тут у ужо усё усе усіх хто
цi ці чаму чым што шмат яна яны яно які ўсё ўсе ў
"""


@lru_cache(maxsize=None)
def stop_words_for(lang: str | None) -> frozenset[str]:
    """The stop words of `lang`, case-folded; empty for an unknown or missing language."""
    if not lang:
        return frozenset()
    if lang == "be":
        return frozenset(BELARUSIAN.split())
    import stopwordsiso

    return frozenset(w.lower() for w in (stopwordsiso.stopwords(lang) or ()))
