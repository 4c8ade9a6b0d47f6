"""Highlighted matches: which words of a field the query matched, marked up as safe HTML.

Tantivy's snippet generator only marks exact terms (not typo or prefix matches), so the
embedded backend marks matches here with the same rules its query uses. Meilisearch marks
its own matches; both go through `render`, so escaping and cropping are identical.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from search.analysis import edit_distance, prefix_distance, stems, word_spans
from search.query import ParsedQuery

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
# Long descriptions are cut to a window around the first match, like a search snippet.
CROP_CHARS = 240
CROP_LEAD = 60

Span = tuple[int, int]


class Matcher:
    """Decides whether one folded word of a document matches a parsed query."""

    def __init__(self, query: ParsedQuery) -> None:
        self._words = [
            (w.text, w.typos, w.prefix, set(stems(w.text).values())) for w in query.words
        ]
        self._exact = {word for phrase in query.phrases for word in phrase}
        self._cache: dict[str, bool] = {}

    def __call__(self, token: str) -> bool:
        known = self._cache.get(token)
        if known is None:
            known = self._cache[token] = self._matches(token)
        return known

    def _matches(self, token: str) -> bool:
        if token in self._exact:
            return True
        token_stems: set[str] | None = None
        for text, typos, prefix, query_stems in self._words:
            if token == text or (prefix and token.startswith(text)):
                return True
            if token_stems is None:
                token_stems = set(stems(token).values())
            if token_stems & query_stems:
                return True
            if typos and edit_distance(text, token, typos) <= typos:
                return True
            if prefix and typos and prefix_distance(text, token, typos) <= typos:
                return True
        return False


def match_spans(text: str, matcher: Matcher) -> list[Span]:
    return [(start, end) for token, start, end in word_spans(text) if matcher(token)]


def render(text: str, spans: Iterable[Span], *, crop: int = CROP_CHARS) -> str:
    """`text` HTML-escaped with each span in <mark>; long text cropped around the first."""
    ordered = sorted(spans)
    start, end = 0, len(text)
    if len(text) > crop:
        first = ordered[0][0] if ordered else 0
        start = max(0, first - CROP_LEAD)
        # Begin at a word boundary so the snippet does not open mid-word.
        if start and (space := text.rfind(" ", 0, start + 1)) > 0:
            start = space + 1
        end = min(len(text), start + crop)
    out = ["…" if start else ""]
    cursor = start
    for s, e in ordered:
        if s < cursor or e > end:
            continue
        out += [html.escape(text[cursor:s]), MARK_OPEN, html.escape(text[s:e]), MARK_CLOSE]
        cursor = e
    out.append(html.escape(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)


def highlight_fields(fields: dict[str, str], query: ParsedQuery) -> dict[str, str]:
    """Field -> highlighted text, for the fields with at least one match."""
    if query.is_empty:
        return {}
    matcher = Matcher(query)
    result = {}
    for name, text in fields.items():
        spans = match_spans(text, matcher)
        if spans:
            result[name] = render(text, spans)
    return result


def spans_from_marked(marked: str, open_tag: str, close_tag: str) -> tuple[str, list[Span]]:
    """Plain text and match spans from text a search engine marked up with sentinel tags."""
    plain: list[str] = []
    spans: list[Span] = []
    length, position, start = 0, 0, None
    while position < len(marked):
        if marked.startswith(open_tag, position):
            start, position = length, position + len(open_tag)
        elif marked.startswith(close_tag, position):
            if start is not None:
                spans.append((start, length))
            start, position = None, position + len(close_tag)
        else:
            plain.append(marked[position])
            length, position = length + 1, position + 1
    return "".join(plain), spans
