"""GET /api/v1/clusters a page at a time: groups counted and cut in the database, only the
sample faces of the page's groups read (gdpr.recognition.clusters.clusters_page)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dam.models import Face, FaceState, Role
from dam.runtime import Runtime
from gdpr.recognition import people_overview
from tests.conftest import Account
from tests.feed_factories import make_asset


def groups(rt: Runtime, sizes: list[int]) -> list[str]:
    """Groups of unknown faces of these sizes (each face on a photo of its own)."""
    ids = []
    for size in sizes:
        with rt.unit_of_work() as session:
            faces = [
                Face(
                    asset_id=make_asset(rt),
                    box_x=0.1,
                    box_y=0.1,
                    box_w=0.2,
                    box_h=0.2,
                    score=0.99,
                    detector="test",
                    state=FaceState.unknown,
                )
                for _ in range(size)
            ]
            for face in faces:
                face.cluster_id = faces[0].id
                session.add(face)
            ids.append(faces[0].id)
    return ids


def test_clusters_come_a_page_at_a_time_biggest_first(
    rt: Runtime, client: TestClient, make_account: object
) -> None:
    sizes = [1, 5, 2, 7, 3, 3, 1, 4]
    made = groups(rt, sizes)
    expected = sorted(zip(sizes, made, strict=True), key=lambda g: (-g[0], g[1]))
    officer: Account = make_account(Role.privacy_officer)  # type: ignore[operator]
    seen = []
    for page in (1, 2, 3):
        response = client.get(
            "/api/v1/clusters",
            params={"per_page": 3, "page": page, "sample": 2},
            headers=officer.headers,
        )
        assert response.status_code == 200, response.text
        assert response.headers["X-Total-Count"] == "8"
        body = response.json()
        assert len(body) == (3 if page < 3 else 2)
        for cluster in body:
            assert len(cluster["faces"]) == min(2, cluster["size"])
            assert all(f["state"] == "unknown" for f in cluster["faces"])
        seen += [(c["size"], c["id"]) for c in body]
    assert seen == expected
    big = client.get("/api/v1/clusters", params={"min_size": 4}, headers=officer.headers)
    assert [c["size"] for c in big.json()] == [7, 5, 4]
    assert big.headers["X-Total-Count"] == "3"
    # The People page's groups read the same pages.
    with rt.unit_of_work() as session:
        page = people_overview.cluster_page(session, page=2, per_page=3, shown=1)
    assert [(c.size, c.id) for c in page.clusters] == expected[3:6]
    assert page.paging.total == 8 and page.paging.pages == 3
    assert all(len(c.faces) == 1 for c in page.clusters)


def test_a_viewer_may_not_list_groups(
    rt: Runtime, client: TestClient, make_account: object
) -> None:
    groups(rt, [2])
    viewer: Account = make_account(Role.viewer)  # type: ignore[operator]
    assert client.get("/api/v1/clusters", headers=viewer.headers).status_code == 403
