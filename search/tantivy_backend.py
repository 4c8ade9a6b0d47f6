"""The embedded search backend: a Tantivy index in the data dir (no server to run).

Tantivy allows one writer per index, across processes (a lock file); search.sync makes
sure only the elected process asks for it. Readers in any process see each commit.
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Index, Occur, Order, Query, SchemaBuilder

from search import document
from search.analysis import build_analyzer, stems
from search.backend import DocumentSource, Progress, SearchUnavailable, WriterBusy
from search.document import TEXT_FIELDS, SearchDocument
from search.highlight import highlight_fields
from search.query import FACET_SIZE, Hit, ParsedQuery, SearchRequest, SearchResult, Word

log = logging.getLogger(__name__)

# Bump when the schema or the analyzers change: a new directory is built from scratch
# (search.sync notices the empty index and re-indexes every asset).
SCHEMA_VERSION = 3  # 2: the uploader; 3: the stored source, fast fields for facets only

# Weights: a word in the title counts most, then the exact word anywhere, then the same
# Dutch or English stem; typo and prefix matches score least (they are constant-score).
TITLE_BOOST, WORD_BOOST, STEM_BOOST, FUZZY_BOOST = 2.0, 1.0, 0.8, 0.3

FACET_FIELDS = {
    "kind": "kind",
    "year": "year",
    "tags": "tags",
    "people": "people",
    "collections": "collections",
    "cleared_for": "cleared_for",
    "licence": "licence",
}
FACETED = {*FACET_FIELDS.values(), "hidden_people"}
SORT_FIELDS = {
    sort: (field, Order.Desc if newest_first else Order.Asc)
    for sort, (field, newest_first) in document.SORT_FIELDS.items()
}


def build_schema() -> tantivy.Schema:
    sb = SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("fingerprint", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", tokenizer_name="bb_words")
    sb.add_text_field("words", tokenizer_name="bb_words")
    sb.add_text_field("words_nl", tokenizer_name="bb_dutch", index_option="freq")
    sb.add_text_field("words_en", tokenizer_name="bb_english", index_option="freq")
    sb.add_text_field("hidden_words", tokenizer_name="bb_words")
    for name in document.KEYWORD_FIELDS:
        # Only facets are aggregated (a fast field); filters need the terms alone.
        sb.add_text_field(name, tokenizer_name="raw", fast=name in FACETED)
    sb.add_boolean_field("restricted", indexed=True, fast=True)
    sb.add_integer_field("taken_ts", indexed=True, fast=True)
    sb.add_integer_field("created_us", indexed=True, fast=True)
    # Everything a hit shows or highlights, as one stored JSON blob.
    sb.add_bytes_field("display", stored=True)
    # The document's own JSON (to_json without this field): what a purge re-adds.
    sb.add_bytes_field("source", stored=True)
    return sb.build()


def to_json(doc: SearchDocument) -> str:
    """The document as Tantivy's JSON (IndexWriter.add_json), carrying a copy of itself in
    the stored `source` field: a purge re-adds documents from that copy as they are."""
    fields: dict[str, Any] = {"id": doc.id, "fingerprint": doc.fingerprint, "title": doc.title}
    texts = [
        doc.text(name) if name != "filename" else doc.filename.replace("_", " ")
        for name in TEXT_FIELDS
    ]
    fields["words"] = fields["words_nl"] = fields["words_en"] = [t for t in texts if t]
    fields["hidden_words"] = list(doc.hidden_people)
    keywords: dict[str, Iterable[str]] = {
        "kind": [doc.kind],
        "year": [str(doc.year)] if doc.year else [],
        "tags": doc.tags,
        "people": doc.people,
        "person_ids": doc.person_ids,
        "hidden_people": doc.hidden_people,
        "hidden_person_ids": doc.hidden_person_ids,
        "collections": doc.collections,
        "cleared_for": doc.cleared_for,
        "verdicts": [f"{c}:{v}" for c, v in doc.verdicts],
        "licence": [doc.licence],
        "orientation": [doc.orientation] if doc.orientation else [],
        "uploader": [doc.uploader] if doc.uploader else [],
    }
    for name, values in keywords.items():
        fields[name] = list(values)
    fields["restricted"] = doc.restricted
    if doc.taken_ts is not None:
        fields["taken_ts"] = doc.taken_ts
    fields["created_us"] = doc.created_us
    display = {"kind": doc.kind, **{n: doc.text(n) for n in TEXT_FIELDS}}
    display["hidden_people"] = " · ".join(doc.hidden_people)
    fields["display"] = _base64(json.dumps(display, ensure_ascii=False).encode())
    return _with_source(json.dumps(fields, ensure_ascii=False).encode())


def _with_source(payload: bytes) -> str:
    """A document's JSON without `source` (an object), with it: itself (bytes go as base64)."""
    return f'{payload[:-1].decode()},"source":"{_base64(payload)}"}}'


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class TantivyBackend:
    name = "tantivy"

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / f"tantivy-v{SCHEMA_VERSION}"
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = build_schema()
        self.index = Index(self.schema, path=str(self.path), reuse=True)
        self.index.register_tokenizer("bb_words", build_analyzer())
        self.index.register_tokenizer("bb_dutch", build_analyzer("dutch"))
        self.index.register_tokenizer("bb_english", build_analyzer("english"))
        _remove_older_versions(Path(directory))

    def describe(self) -> str:
        return f"Tantivy {version('tantivy')} index at {self.path}"

    def ping(self) -> None:
        try:
            self.index.searcher()
        except Exception as exc:
            raise SearchUnavailable(f"the index at {self.path} cannot be read: {exc}") from exc

    def open_writer(self) -> TantivyWriter:
        return TantivyWriter(self)

    def count(self) -> int:
        return int(self.index.searcher().num_docs)

    def size_bytes(self) -> int | None:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def close(self) -> None:
        """Nothing to release: readers hold only memory maps."""

    def fingerprints(self) -> dict[str, str]:
        searcher = self.index.searcher()
        found = {}
        for _, address in searcher.search(Query.all_query(), max(1, searcher.num_docs)).hits:
            doc = searcher.doc(address)
            found[str(doc.get_first("id"))] = str(doc.get_first("fingerprint"))
        return found

    def search(self, request: SearchRequest) -> SearchResult:
        searcher = self.index.searcher()
        query = self.build_query(request)
        kwargs: dict[str, Any] = {"limit": request.per_page, "offset": request.offset}
        if request.sort in SORT_FIELDS:
            kwargs["order_by_field"], kwargs["order"] = SORT_FIELDS[request.sort]
        result = searcher.search(query, count=True, **kwargs)
        hits = []
        for _, address in result.hits:
            stored = searcher.doc(address)
            display = json.loads(stored.get_first("display") or b"{}")
            texts = {n: display[n] for n in TEXT_FIELDS if display.get(n)}
            if request.access.hidden_people and display.get("hidden_people"):
                both = [texts.get("people", ""), display["hidden_people"]]
                texts["people"] = " · ".join(filter(None, both))
            hits.append(
                Hit(
                    id=str(stored.get_first("id")),
                    kind=display["kind"],
                    title=display["title"],
                    highlights=highlight_fields(texts, request.query),
                )
            )
        facets = self._facets(searcher, query, request) if request.facets else {}
        # `count` is there when searching with count=True (the type stubs miss it).
        total = int(getattr(result, "count", 0) or 0)
        return SearchResult(total=total, hits=hits, facets=facets)

    def _facets(
        self, searcher: tantivy.Searcher, query: Query, request: SearchRequest
    ) -> dict[str, dict[str, int]]:
        fields = dict(FACET_FIELDS)
        if request.access.hidden_people:
            fields["hidden_people"] = "hidden_people"
        aggregations = {
            name: {"terms": {"field": field, "size": FACET_SIZE}} for name, field in fields.items()
        }
        raw = searcher.aggregate(query, aggregations)
        facets = {
            name: {str(b["key"]): int(b["doc_count"]) for b in raw.get(name, {}).get("buckets", [])}
            for name in fields
        }
        hidden = facets.pop("hidden_people", {})
        for name, count in hidden.items():
            facets["people"][name] = facets["people"].get(name, 0) + count
        return facets

    # --- query building -----------------------------------------------------------------

    def build_query(self, request: SearchRequest) -> Query:
        clauses: list[tuple[Occur, Query]] = []
        clauses += [(Occur.Must, q) for q in self._text_clauses(request.query, request)]
        clauses += [(Occur.Must, q) for q in self._filter_clauses(request)]
        for words in request.query.excluded:
            clauses.append((Occur.MustNot, self._phrase("words", words)))
        if not request.access.restricted:
            restricted = Query.term_query(self.schema, "restricted", True)
            clauses.append((Occur.MustNot, restricted))
        if not any(occur == Occur.Must for occur, _ in clauses):
            # A query of exclusions only matches nothing; start from every document.
            clauses.append((Occur.Must, Query.all_query()))
        return Query.boolean_query(clauses)

    def _text_clauses(self, parsed: ParsedQuery, request: SearchRequest) -> list[Query]:
        clauses = []
        for word in parsed.words:
            alternatives = self._word_alternatives(word, "words")
            alternatives.append(Query.boost_query(self._term("title", word.text), TITLE_BOOST))
            if request.access.hidden_people:
                alternatives += self._word_alternatives(word, "hidden_words", stemmed=False)
            clauses.append(_any(alternatives))
        for phrase in parsed.phrases:
            options = [self._phrase("words", phrase)]
            if request.access.hidden_people:
                options.append(self._phrase("hidden_words", phrase))
            clauses.append(_any(options))
        return clauses

    def _word_alternatives(self, word: Word, field: str, *, stemmed: bool = True) -> list[Query]:
        s, text = self.schema, word.text
        options = [Query.boost_query(self._term(field, text), WORD_BOOST)]
        if stemmed:
            word_stems = stems(text)
            options.append(
                Query.boost_query(self._term("words_nl", word_stems["dutch"]), STEM_BOOST)
            )
            options.append(
                Query.boost_query(self._term("words_en", word_stems["english"]), STEM_BOOST)
            )
        if word.typos:
            fuzzy = Query.fuzzy_term_query(s, field, text, distance=word.typos)
            options.append(Query.boost_query(fuzzy, FUZZY_BOOST))
        if word.prefix:
            prefix = Query.fuzzy_term_query(s, field, text, distance=word.typos, prefix=True)
            options.append(Query.boost_query(prefix, FUZZY_BOOST))
        return options

    def _filter_clauses(self, request: SearchRequest) -> list[Query]:
        f, s = request.filters, self.schema
        clauses = []
        for field, values in (
            ("kind", f.kinds),
            ("year", tuple(str(y) for y in f.years)),
            ("licence", f.licences),
            ("orientation", f.orientations),
            ("uploader", f.uploaders),
        ):
            if values:
                clauses.append(Query.term_set_query(s, field, list(values)))
        for field, values in (
            ("tags", f.tags),
            ("collections", f.collections),
            ("cleared_for", f.cleared_for),
        ):
            clauses += [self._term(field, v) for v in values]
        person_fields = ["person_ids", "people"]
        if request.access.hidden_people:
            person_fields += ["hidden_person_ids", "hidden_people"]
        for person in f.people:
            clauses.append(_any([self._term(field, person) for field in person_fields]))
        return clauses

    def _term(self, field: str, value: str) -> Query:
        return Query.term_query(self.schema, field, value)

    def _phrase(self, field: str, words: Sequence[str]) -> Query:
        if len(words) == 1:
            return self._term(field, words[0])
        return Query.phrase_query(self.schema, field, list(words))


def _any(queries: list[Query]) -> Query:
    return Query.boolean_query([(Occur.Should, q) for q in queries])


def _remove_older_versions(directory: Path) -> None:
    for old in directory.glob("tantivy-v*"):
        if old.name != f"tantivy-v{SCHEMA_VERSION}":
            log.info("removing the outdated search index %s", old)
            shutil.rmtree(old, ignore_errors=True)


class TantivyWriter:
    """The one writer of the index; Tantivy's lock file keeps other processes out."""

    # Enough memory to index a full rebuild in a few large segments; Tantivy flushes to
    # disk when the budget is used, so this bounds memory, not index size.
    HEAP_BYTES = 96_000_000

    def __init__(self, backend: TantivyBackend) -> None:
        self.backend = backend
        self._writer = self._open()

    def _open(self) -> tantivy.IndexWriter:
        try:
            return self.backend.index.writer(heap_size=self.HEAP_BYTES, num_threads=2)
        except ValueError as exc:
            if "LockBusy" in str(exc):
                raise WriterBusy(
                    f"another process writes the index at {self.backend.path}"
                ) from exc
            raise

    def upsert(self, documents: Sequence[SearchDocument]) -> None:
        for doc in documents:
            self._writer.delete_documents_by_term("id", doc.id)
            self._writer.add_json(to_json(doc))

    def delete(self, ids: Sequence[str]) -> None:
        for asset_id in ids:
            self._writer.delete_documents_by_term("id", asset_id)

    def commit(self) -> None:
        self._writer.commit()
        # Readers reload on their own shortly after a commit; this process's reader
        # reloads now, so what it just wrote is searchable the moment commit returns.
        self.backend.index.reload()

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress) -> int:
        # One commit at the end: searches keep seeing the old index until the new one
        # is complete, then switch over at once.
        self._writer.delete_all_documents()
        done = 0
        for doc in documents:
            self._writer.add_json(to_json(doc))
            done += 1
            if done % 1000 == 0:
                progress(done)
        progress(done)
        self.commit()
        return done

    def purge(self, ids: Sequence[str], documents: DocumentSource) -> int:
        # A deleted or replaced document keeps its text in its segment's files until that
        # segment is merged away, and tantivy-py offers no merge on demand. A segment whose
        # documents are all deleted, though, is dropped at the commit and its files
        # removed. So every segment that holds one of these documents, or any deleted
        # document (an older version of one of them may be among those), is emptied: these
        # documents are written anew from the database, the other live documents of those
        # segments as they are, from their stored source (no database, no Python building;
        # read one by one while Tantivy's threads index the ones before).
        self._settle()
        wanted = list(dict.fromkeys(ids))
        searcher, doomed = self._sharing_segments(wanted)
        fresh, _ = documents(wanted)
        self.delete(wanted)  # all of them: one whose document cannot be made goes too
        for doc in fresh:
            self._writer.add_json(to_json(doc))
        written, skip = len(fresh), set(wanted)
        for address in doomed:
            stored = searcher.doc(address)
            asset_id = str(stored.get_first("id"))
            if asset_id not in skip:
                source = stored.get_first("source")
                assert isinstance(source, bytes), "every document goes in through to_json"
                self._writer.delete_documents_by_term("id", asset_id)
                self._writer.add_json(_with_source(source))
                written += 1
        # Files of segments a searcher still holds survive the garbage collection: let go
        # of ours and move the index's reader to the commit first (it reloads on its own,
        # but later; a term file of an emptied segment was left behind once in CI).
        del searcher, doomed
        self.commit()
        self.backend.index.reload()
        self._writer.garbage_collect_files()
        return written

    def _settle(self) -> None:
        """Let merges in flight finish and continue with a fresh writer."""
        # A merge that started before a delete carries the deleted document into its new
        # segment; the fresh writer starts no merge until it commits, so the segments
        # stay as the purge reads them.
        self._writer.wait_merging_threads()
        self._writer = self._open()

    def _sharing_segments(
        self, ids: Sequence[str]
    ) -> tuple[tantivy.Searcher, list[tantivy.DocAddress]]:
        """A searcher, and the addresses of the live documents in every segment that holds
        one of `ids` or a deleted document."""
        index = self.backend.index
        index.reload()
        searcher = index.searcher()
        metas = json.loads((self.backend.path / "meta.json").read_text())["segments"]
        everything = searcher.search(Query.all_query(), max(1, searcher.num_docs)).hits
        alive = Counter(address.segment_ord for _, address in everything)
        expected = {
            o: m["max_doc"] - (m.get("deletes") or {}).get("num_deleted_docs", 0)
            for o, m in enumerate(metas)
        }
        if dict(alive) != {o: n for o, n in expected.items() if n}:
            # The reader's segments are not meta.json's, in its order: empty them all.
            log.warning("the search index's segments do not match its meta.json; rewriting all")
            doomed = set(alive)
        else:
            doomed = {o for o, meta in enumerate(metas) if meta.get("deletes")}
            if ids:
                query = Query.term_set_query(self.backend.schema, "id", list(ids))
                hits = searcher.search(query, len(ids)).hits
                doomed |= {address.segment_ord for _, address in hits}
        return searcher, [address for _, address in everything if address.segment_ord in doomed]

    def close(self) -> None:
        # Waiting for merges consumes the writer and releases the lock file.
        self._writer.wait_merging_threads()
