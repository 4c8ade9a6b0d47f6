"""Words as search sees them: cutting, folding, Dutch and English stems, typo budgets.

One tokenizer chain serves the Tantivy index, the query parser and the Meilisearch
query rewrite, so a word is cut and folded the same way wherever it is compared.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Literal

from tantivy import Filter, TextAnalyzer, TextAnalyzerBuilder, Tokenizer

Language = Literal["dutch", "english"]
LANGUAGES: tuple[Language, ...] = ("dutch", "english")

# Words longer than this are not words people type (hashes, URLs); Tantivy drops them.
MAX_WORD_CHARS = 40

# Meilisearch's defaults: no typo below 5 characters, one from 5, two from 9.
ONE_TYPO_FROM = 5
TWO_TYPOS_FROM = 9


def build_analyzer(stem: Language | None = None) -> TextAnalyzer:
    """Split on anything that is not a letter or digit, lower-case, fold accents, stem."""
    builder = (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(MAX_WORD_CHARS))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
    )
    if stem is not None:
        builder = builder.filter(Filter.stemmer(stem))
    return builder.build()


# The analyzers are Rust objects with interior mutability; one per thread keeps a search
# request and the index writer thread from borrowing the same one at once.
_local = threading.local()


def _analyzer(stem: Language | None) -> TextAnalyzer:
    cache: dict[Language | None, TextAnalyzer] | None = getattr(_local, "analyzers", None)
    if cache is None:
        cache = _local.analyzers = {}
    analyzer = cache.get(stem)
    if analyzer is None:
        analyzer = cache[stem] = build_analyzer(stem)
    return analyzer


def words(text: str) -> list[str]:
    """The folded words of `text`: 'Fietsers op de Graslei' -> fietsers, op, de, graslei."""
    return _analyzer(None).analyze(text) if text else []


def stem(word: str, language: Language) -> str:
    """The Snowball stem of one folded word ('fietsers' -> 'fietser' in Dutch)."""
    out = _analyzer(language).analyze(word)
    return out[0] if out else word


def stems(word: str) -> dict[Language, str]:
    dutch, english = _stems(word)
    return {"dutch": dutch, "english": english}


@lru_cache(maxsize=200_000)
def _stems(word: str) -> tuple[str, str]:
    # Highlighting asks for the stems of every word of every hit; a library's vocabulary
    # is small, so they are remembered (a few MB at most).
    return stem(word, "dutch"), stem(word, "english")


def typo_budget(word: str) -> int:
    """How many typos a query word may contain and still match (Meilisearch's defaults)."""
    if len(word) >= TWO_TYPOS_FROM:
        return 2
    if len(word) >= ONE_TYPO_FROM:
        return 1
    return 0


def _last_row(a: str, b: str, limit: int) -> list[int] | None:
    """The last row of the edit-distance table of a against b (optimal string alignment:
    adjacent transpositions count once); None once every cell exceeds `limit`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return None
        previous2, previous = previous, current
    return previous


def _missing_letters(a: str, b: str) -> int:
    """How many letters of a (with repeats) b lacks: a lower bound of their edit distance
    (each edit supplies at most one letter; a transposition none), and far cheaper."""
    available: dict[str, int] = {}
    for char in b:
        available[char] = available.get(char, 0) + 1
    missing = 0
    for char in a:
        if available.get(char):
            available[char] -= 1
        else:
            missing += 1
    return missing


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with adjacent transpositions counted once, capped at limit + 1."""
    if abs(len(a) - len(b)) > limit or _missing_letters(a, b) > limit:
        return limit + 1
    row = _last_row(a, b, limit)
    return limit + 1 if row is None else min(row[-1], limit + 1)


def prefix_distance(prefix: str, word: str, limit: int) -> int:
    """The fewest typos that make `prefix` the start of `word` (capped at limit + 1)."""
    # One table against the word's start: its last row holds the distance to every
    # prefix of the word at once.
    start = word[: len(prefix) + limit]
    if _missing_letters(prefix, start) > limit:
        return limit + 1
    row = _last_row(prefix, start, limit)
    if row is None:
        return limit + 1
    return min(min(row[max(0, len(prefix) - limit) :]), limit + 1)


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Each folded word of `text` with its start and end (character offsets into `text`)."""
    if not text:
        return []
    tokens = _analyzer(None).pre_tokenize(text).tokens
    return [(t.text, t.char_offset_from, t.char_offset_to) for t in tokens]
