"""Search for people and programs: the per-runtime service, access rules, the search call."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from dam.assets import RESTRICTED_PERMISSION
from dam.auth import role_has_permission
from dam.errors import N_, DomainError
from dam.models import Role, User
from dam.runtime import Runtime
from dam.settings import Settings
from search.backend import SearchBackend, SearchUnavailable
from search.facts import fact_providers
from search.query import (
    MAX_PER_PAGE,
    Access,
    Filters,
    SearchRequest,
    SearchResult,
    Sort,
    effective_sort,
    parse_query,
)
from search.sync import IndexSync

MAX_QUERY_CHARS = 500


class SearchUnavailableError(DomainError):
    status, code = 503, "search_unavailable"


def make_backend(settings: Settings) -> SearchBackend:
    """Meilisearch when DAM_SEARCH_URL is set, else the embedded Tantivy index."""
    if settings.search_url:
        from search.meili_backend import MeilisearchBackend

        return MeilisearchBackend(
            settings.search_url, api_key=settings.search_api_key, index=settings.search_index
        )
    from search.tantivy_backend import TantivyBackend

    return TantivyBackend(settings.data_dir / "search")


class SearchService:
    """One runtime's search: the backend (opened on first use) and the index sync."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.settings = settings
        self._backend: SearchBackend | None = None
        self._lock = threading.Lock()
        self.sync = IndexSync(
            engine=runtime.engine,
            sessions=runtime.session,
            backend=self.backend,
            zone=settings.default_timezone,
            gather_s=settings.search_commit_interval_ms / 1000,
            # Read at each drain: a test may add a provider to a running runtime.
            providers=lambda: fact_providers(runtime.wiring),
        )

    def backend(self) -> SearchBackend:
        with self._lock:
            if self._backend is None:
                self._backend = make_backend(self.settings)
            return self._backend

    def close(self) -> None:
        self.sync.close()
        with self._lock:
            if self._backend is not None:
                self._backend.close()


def service_for(rt: Runtime) -> SearchService:
    service: SearchService = rt.services["search"]
    return service


def access_for(role: Role | str) -> Access:
    """Restricted material and hidden people only for roles that may open them."""
    allowed = role_has_permission(role, RESTRICTED_PERMISSION)
    return Access(restricted=allowed, hidden_people=allowed)


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    filters: Filters = field(default_factory=Filters)
    sort: Sort | None = None
    page: int = 1
    per_page: int = 20
    facets: bool = True  # facet counts cost a little: a count or a page of ids needs none


def search_assets(service: SearchService, *, user: User, params: SearchParams) -> SearchResult:
    """Search as `user`: their role decides what can be found."""
    query = parse_query(params.q[:MAX_QUERY_CHARS])
    request = SearchRequest(
        query=query,
        filters=params.filters,
        sort=effective_sort(params.sort, query),
        page=max(1, params.page),
        per_page=max(1, min(MAX_PER_PAGE, params.per_page)),
        access=access_for(user.role),
        facets=params.facets,
    )
    try:
        return service.backend().search(request)
    except SearchUnavailable as exc:
        raise SearchUnavailableError(
            N_("Search is unavailable right now (%(detail)s); try again in a moment."),
            params={"detail": str(exc)},
        ) from exc
