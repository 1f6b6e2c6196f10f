"""Stop words per language (ISO 639-1 code): function words only.

The lists are `bot.stoplists` (articles, pronouns, prepositions, conjunctions, particles, auxiliary
verbs; Snowball's and Lucene's size) plus Belarusian here. They replaced stopwords-iso's lists, whose
1,298 English entries include content words people search for (world, year, next, round, state,
million...); see docs/quality.md for what each choice scored on the dev set.
"""

from __future__ import annotations

from functools import cache

from bot.stoplists import stop_list

# Belarusian function words (pronouns, prepositions, conjunctions, particles, forms of "to be").
BELARUSIAN = """
а аб або але альбо ані апроч аж без бо быў была было былі быць вам вас ваш ваша
вашы вось вы гэта гэты гэтая гэтае гэтыя гэтага гэтай гэтым да дзе дзеля для до ён ёй ёсць
ім іх калі каб каля кім які якая якое якія яго яе як і ізноў з за зноў ля мне мы мяне мой мая маё
мае на над нават нам нас наш наша нашы не нi ні ніж но па пад паміж перад пра праз пры сам сама
само самі свой сваё свая свае сябе так таксама такі тады там толькі ты тут у ужо усё усе усіх хто
цi ці чаму чым што яна яны яно ўсё ўсе ў
"""


@cache
def stop_words_for(lang: str | None) -> frozenset[str]:
    """The stop words of `lang`, case-folded; empty for an unknown or missing language."""
    if not lang:
        return frozenset()
    if lang == "be":
        return frozenset(BELARUSIAN.split())
    return stop_list(lang)
