"""The multi-machine search backend: Meilisearch at DAM_SEARCH_URL.

Request building is pure (meili_document, meili_settings, search_params) and tested
without a server; the contract suite runs against a real one when DAM_TEST_MEILI_URL
is set. Meilisearch does not stem, so documents carry the Dutch and English stems of
their words in a `stems` attribute, and query words are sent as their shortest stem.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError, MeilisearchError

from search import document
from search.analysis import stems, words
from search.backend import DocumentSource, Progress, SearchUnavailable
from search.document import TEXT_FIELDS, SearchDocument
from search.highlight import highlight_fields
from search.query import FACET_SIZE, FACETS, Hit, ParsedQuery, SearchRequest, SearchResult

BATCH = 5000
TASK_TIMEOUT_MS = 120_000
MAX_TOTAL_HITS = 1_000_000

SEARCHABLE = [
    "title",
    "tags",
    "people",
    "collections",
    "keywords",
    "alt_text",
    "description",
    "creator",
    "filename_words",
    "stems",
    "hidden_people",
]
FILTERABLE = ["id", *document.KEYWORD_FIELDS, "restricted"]
SORTS = {
    sort: [f"{field}:{'desc' if newest_first else 'asc'}"]
    for sort, (field, newest_first) in document.SORT_FIELDS.items()
}


def meili_settings() -> dict[str, Any]:
    """Index settings: typo tolerance as Meilisearch's defaults, spelled out so they hold."""
    return {
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": FILTERABLE,
        "sortableAttributes": ["taken_ts", "created_us"],
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
        "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
        "faceting": {"maxValuesPerFacet": FACET_SIZE, "sortFacetValuesBy": {"*": "count"}},
        "stopWords": [],
    }


def meili_document(doc: SearchDocument) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": doc.id,
        "fingerprint": doc.fingerprint,
        "kind": doc.kind,
        "status": doc.status,
        "title": doc.title,
        "description": doc.description,
        "alt_text": doc.alt_text,
        "filename": doc.filename,
        "filename_words": " ".join(words(doc.filename)),
        "creator": doc.creator,
        "tags": list(doc.tags),
        "keywords": list(doc.keywords),
        "collections": list(doc.collections),
        "people": list(doc.people),
        "person_ids": list(doc.person_ids),
        "hidden_people": list(doc.hidden_people),
        "hidden_person_ids": list(doc.hidden_person_ids),
        "orientation": doc.orientation,
        "uploaded_date": doc.uploaded_date,
        "created_us": doc.created_us,
        "verdicts": [f"{c}:{v}" for c, v in doc.verdicts],
        "cleared_for": list(doc.cleared_for),
        "licence": doc.licence,
        "restricted": doc.restricted,
        "uploader": doc.uploader,
        "stems": _stems_of(doc),
    }
    # Absent rather than null: Meilisearch sorts documents without the value last.
    if doc.year is not None:
        out["year"] = doc.year
        out["taken_date"] = doc.taken_date
    if doc.taken_ts is not None:
        out["taken_ts"] = doc.taken_ts
    return out


def _stems_of(doc: SearchDocument) -> list[str]:
    found: set[str] = set()
    for name in TEXT_FIELDS:
        for word in words(doc.text(name)):
            found.update(s for s in stems(word).values() if s != word)
    return sorted(found)


def query_text(query: ParsedQuery) -> str:
    """The q parameter: words (all but the one being typed as their shortest stem), phrases
    in quotes, exclusions with a minus."""
    parts = [
        min([word.text, *stems(word.text).values()], key=len)
        for word in query.words
        if not word.prefix
    ]
    parts += [f'"{" ".join(phrase)}"' for phrase in query.phrases]
    parts += [
        f'-"{" ".join(phrase)}"' if len(phrase) > 1 else f"-{phrase[0]}"
        for phrase in query.excluded
    ]
    # Meilisearch treats the last word as a prefix unless a space follows it: the word
    # being typed goes last, and a query without one ends in a space.
    typed = [word.text for word in query.words if word.prefix]
    return " ".join(parts + typed) + ("" if typed else " ")


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def filter_expression(request: SearchRequest) -> list[Any]:
    """Meilisearch's array form: inner lists are alternatives, the outer list must all hold."""
    f = request.filters
    clauses: list[Any] = []
    for name, values in (
        ("kind", f.kinds),
        ("licence", f.licences),
        ("orientation", f.orientations),
        ("uploader", f.uploaders),
    ):
        if values:
            clauses.append([f"{name} = {_quote(v)}" for v in values])
    if f.years:
        clauses.append([f"year = {int(y)}" for y in f.years])
    for name, values in (("tags", f.tags), ("collections", f.collections)):
        clauses += [f"{name} = {_quote(v)}" for v in values]
    clauses += [f"cleared_for = {_quote(c)}" for c in f.cleared_for]
    person_fields = ["person_ids", "people"]
    if request.access.hidden_people:
        person_fields += ["hidden_person_ids", "hidden_people"]
    for person in f.people:
        clauses.append([f"{name} = {_quote(person)}" for name in person_fields])
    if not request.access.restricted:
        clauses.append("restricted = false")
    return clauses


def search_params(request: SearchRequest) -> tuple[str, dict[str, Any]]:
    searchable = [a for a in SEARCHABLE if request.access.hidden_people or a != "hidden_people"]
    facets = [*FACETS, "hidden_people"] if request.access.hidden_people else list(FACETS)
    params: dict[str, Any] = {
        "page": request.page,
        "hitsPerPage": request.per_page,
        "filter": filter_expression(request),
        "attributesToSearchOn": searchable,
        "attributesToRetrieve": ["id", "kind", *TEXT_FIELDS, "hidden_people"],
        "matchingStrategy": "all",
    }
    if request.facets:
        params["facets"] = facets
    if request.sort in SORTS:
        params["sort"] = SORTS[request.sort]
    return query_text(request.query), params


def parse_response(raw: dict[str, Any], request: SearchRequest) -> SearchResult:
    hits = []
    for doc in raw.get("hits", []):
        texts = {n: _as_text(doc.get(n)) for n in TEXT_FIELDS}
        if request.access.hidden_people and doc.get("hidden_people"):
            texts["people"] = " · ".join(filter(None, [texts["people"], *doc["hidden_people"]]))
        texts = {n: t for n, t in texts.items() if t}
        hits.append(
            Hit(
                id=doc["id"],
                kind=doc.get("kind", ""),
                title=doc.get("title", ""),
                highlights=highlight_fields(texts, request.query),
            )
        )
    distribution = raw.get("facetDistribution") or {}
    facets: dict[str, dict[str, int]] = {}
    if request.facets:
        facets = {name: dict(distribution.get(name, {})) for name in FACETS}
        for name, count in (distribution.get("hidden_people") or {}).items():
            facets["people"][name] = facets["people"].get(name, 0) + count
    return SearchResult(total=int(raw.get("totalHits", 0)), hits=hits, facets=facets)


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return " · ".join(str(v) for v in value)
    return str(value or "")


class MeilisearchBackend:
    name = "meilisearch"

    def __init__(self, url: str, *, api_key: str | None, index: str, timeout_s: int = 10) -> None:
        self.url = url
        self.uid = index
        self.client = meilisearch.Client(url, api_key or None, timeout=timeout_s)

    def describe(self) -> str:
        return f"Meilisearch at {self.url}, index {self.uid!r}"

    def ping(self) -> None:
        try:
            self.client.health()
        except MeilisearchError as exc:
            raise SearchUnavailable(f"Meilisearch at {self.url} does not answer: {exc}") from exc
        except OSError as exc:
            raise SearchUnavailable(f"Meilisearch at {self.url} does not answer: {exc}") from exc

    def open_writer(self) -> MeilisearchWriter:
        return MeilisearchWriter(self)

    def search(self, request: SearchRequest) -> SearchResult:
        q, params = search_params(request)
        try:
            raw = self.client.index(self.uid).search(q, params)
        except MeilisearchApiError as exc:
            if exc.code == "index_not_found":
                return SearchResult(total=0, hits=[], facets={})
            raise SearchUnavailable(str(exc)) from exc
        except (MeilisearchError, OSError) as exc:
            raise SearchUnavailable(str(exc)) from exc
        return parse_response(raw, request)

    def count(self) -> int:
        try:
            return int(self.client.index(self.uid).get_stats().number_of_documents)
        except MeilisearchApiError as exc:
            if exc.code == "index_not_found":
                return 0
            raise

    def fingerprints(self) -> dict[str, str]:
        index = self.client.index(self.uid)
        found: dict[str, str] = {}
        offset = 0
        while True:
            page = index.get_documents(
                {"fields": ["id", "fingerprint"], "limit": BATCH, "offset": offset}
            )
            for doc in page.results:
                found[doc.id] = doc.fingerprint
            offset += len(page.results)
            if not page.results or offset >= page.total:
                return found

    def size_bytes(self) -> int | None:
        try:
            stats = self.client.get_all_stats()
        except MeilisearchError:
            return None
        size = stats.get("databaseSize")
        return int(size) if size is not None else None

    def close(self) -> None:
        """The HTTP client holds no connection between requests."""


class MeilisearchWriter:
    def __init__(self, backend: MeilisearchBackend) -> None:
        self.backend = backend
        self.client = backend.client
        self._tasks: list[int] = []
        self._ensure_index(backend.uid)

    def _ensure_index(self, uid: str) -> None:
        try:
            self.client.get_index(uid)
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise
            self._wait([self.client.create_index(uid, {"primaryKey": "id"}).task_uid])
        self._wait([self.client.index(uid).update_settings(meili_settings()).task_uid])

    def upsert(self, documents: Sequence[SearchDocument]) -> None:
        if documents:
            task = self.client.index(self.backend.uid).add_documents(
                [meili_document(d) for d in documents], primary_key="id"
            )
            self._tasks.append(task.task_uid)

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            expression = f"id IN [{', '.join(_quote(i) for i in ids)}]"
            task = self.client.index(self.backend.uid).delete_documents(filter=expression)
            self._tasks.append(task.task_uid)

    def commit(self) -> None:
        tasks, self._tasks = self._tasks, []
        self._wait(tasks)

    def _wait(self, task_uids: Iterable[int]) -> None:
        for uid in task_uids:
            task = self.client.wait_for_task(uid, timeout_in_ms=TASK_TIMEOUT_MS)
            if task.status != "succeeded":
                raise SearchUnavailable(f"Meilisearch task {uid} {task.status}: {task.error}")

    def rebuild(self, documents: Iterable[SearchDocument], progress: Progress) -> int:
        # Build a second index and swap it in at once: searches see the old one until then.
        staging = f"{self.backend.uid}_rebuild"
        try:
            self._wait([self.client.delete_index(staging).task_uid])
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise
        self._ensure_index(staging)
        index = self.client.index(staging)
        batch: list[dict[str, Any]] = []
        done = 0
        for doc in documents:
            batch.append(meili_document(doc))
            if len(batch) >= BATCH:
                self._wait([index.add_documents(batch, primary_key="id").task_uid])
                done += len(batch)
                batch = []
                progress(done)
        if batch:
            self._wait([index.add_documents(batch, primary_key="id").task_uid])
            done += len(batch)
        progress(done)
        self._wait([self.client.swap_indexes([{"indexes": [self.backend.uid, staging]}]).task_uid])
        self._wait([self.client.delete_index(staging).task_uid])
        return done

    def purge(self, ids: Sequence[str], documents: DocumentSource) -> int:
        # Meilisearch drops a deleted document from its storage itself: deleting the old
        # documents before adding the new ones is all a purge needs.
        # (Tasks on one index run in the order queued: one wait at the end suffices.)
        fresh, _ = documents(ids)
        self.delete(ids)
        self.upsert(fresh)
        self.commit()
        return len(fresh)

    def close(self) -> None:
        self.commit()
