"""Typo tolerance for the help center's search: trigram word similarity, as pg_trgm defines
trigrams, computed here so that it works on any PostgreSQL (the embedded one that `make
run` starts ships without the pg_trgm extension).

A word's trigrams are those of the word lower-cased and padded with two spaces in front
and one behind ("payout" -> "  p", " pa", "pay", "ayo", "you", "out", "ut "). A query word
matches a title word by the share of the query word's trigrams the title word has; a query
matches a title by the mean, over its words, of each one's best match among the title's
words. "payuot" shares 3 of 7 trigrams with "payout": 0.43.
"""

import re
from functools import lru_cache

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=4096)
def trigrams(word: str) -> frozenset[str]:
    padded = f"  {word.lower()} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def word_similarity(query: str, text: str) -> float:
    """How well `text` (a title) covers the words of `query`, from 0 to 1."""
    query_words = words(query)
    candidates = [trigrams(w) for w in set(words(text))]
    if not query_words or not candidates:
        return 0.0
    total = 0.0
    for word in query_words:
        wanted = trigrams(word)
        total += max(len(wanted & have) for have in candidates) / len(wanted)
    return total / len(query_words)
