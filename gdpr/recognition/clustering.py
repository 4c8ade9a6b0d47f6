"""Grouping unknown faces that look alike, so a person is named once per group.

Pure functions over embeddings (rows of a float32 matrix). The batch method is Chinese
whispers (Biemann 2006, as in dlib) over the graph of pairs closer than a threshold;
bench/faces.py measured it against DBSCAN, HDBSCAN and plain connected components.

The graph is built exactly (blocked matrix products) up to `EXACT_UP_TO` faces. Beyond
that the faces are first partitioned into cells around k-means centres, and each face is
compared only with the faces of its `PROBES` nearest cells (an inverted-file index, as
in FAISS's IVF): a close pair is missed only when neither face has the other's cell among
its nearest, which bench/faces.py measures (pairs found, clustering quality, time).

Whatever the method, two faces from the same asset never end up in one cluster: a
person appears once in a photo, so such a pair is two people however alike they look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import dlib
import numpy as np

# dlib's descriptor puts two photos of one person closer than 0.6 in ~99.4% of LFW pairs.
# Clustering is stricter than that: a wrong merge costs a privacy officer more than a
# person split over two clusters (each is still named with one action).
CLUSTER_DISTANCE = 0.5
BLOCK = 2048
EXACT_UP_TO = 20_000  # exact graph below this many faces (~1 s); partitioned above
CELL_SIZE = 256  # faces per partition cell, on average
PROBES = 16  # cells each face is compared with: its own and the next nearest
KMEANS_ROUNDS = 8
KMEANS_SAMPLE = 64  # faces sampled per centre to fit the centres


def neighbour_pairs(
    vectors: np.ndarray, threshold: float, *, exact_up_to: int = EXACT_UP_TO
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) closer than `threshold`: rows i, rows j, distances.

    Every pair for up to `exact_up_to` faces; above that, the pairs the partition finds.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    squares = np.einsum("ij,ij->i", x, x)
    if len(x) <= exact_up_to:
        everyone = np.arange(len(x))
        return _pairs_within(x, squares, everyone, everyone, threshold)
    cells = max(1, len(x) // CELL_SIZE)
    probes = min(PROBES, cells)
    centres = _kmeans(x, cells)
    nearest = _nearest_centres(x, centres, probes)
    home = nearest[:, 0]
    members_order = np.argsort(home, kind="stable")
    members_bounds = np.searchsorted(home[members_order], np.arange(cells + 1))
    probing = nearest.reshape(-1)
    probing_order = np.argsort(probing, kind="stable")
    probing_bounds = np.searchsorted(probing[probing_order], np.arange(cells + 1))
    queries_of = probing_order // probes  # row of each probe
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for cell in range(cells):
        members = members_order[members_bounds[cell] : members_bounds[cell + 1]]
        queries = queries_of[probing_bounds[cell] : probing_bounds[cell + 1]]
        if len(members) and len(queries):
            found.append(_pairs_within(x, squares, queries, members, threshold))
    rows = np.concatenate([f[0] for f in found])
    cols = np.concatenate([f[1] for f in found])
    distances = np.concatenate([f[2] for f in found])
    # A pair is found from both sides when each face probes the other's cell.
    _unique, first = np.unique(rows * len(x) + cols, return_index=True)
    return rows[first], cols[first], distances[first]


def _pairs_within(
    x: np.ndarray, squares: np.ndarray, queries: np.ndarray, members: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) closer than `threshold` with i in `queries` and j in `members`.

    `squares` holds each row's squared length.
    """
    limit = threshold * threshold
    targets = x[members]
    target_squares = squares[members]
    found_i, found_j, found_d = [], [], []
    for start in range(0, len(queries), BLOCK):
        rows = queries[start : start + BLOCK]
        # |a-b|² = |a|² + |b|² - 2ab, in place: at scale the temporaries would cost as
        # much as the product.
        d2 = x[rows] @ targets.T
        d2 *= -2.0
        d2 += target_squares[None, :]
        d2 += squares[rows, None]
        qi, mj = np.nonzero(d2 < limit)
        i, j = rows[qi], members[mj]
        keep = i < j
        found_i.append(i[keep])
        found_j.append(j[keep])
        found_d.append(np.sqrt(np.maximum(d2[qi[keep], mj[keep]], 0.0)))
    if not found_i:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.float32)
    return (
        np.concatenate(found_i).astype(np.int64),
        np.concatenate(found_j).astype(np.int64),
        np.concatenate(found_d).astype(np.float32),
    )


def _kmeans(x: np.ndarray, count: int) -> np.ndarray:
    """`count` centres fitted (Lloyd's rounds) on a fixed sample: the same input, the same cells."""
    rng = np.random.default_rng(0)
    sample = x[rng.choice(len(x), size=min(len(x), count * KMEANS_SAMPLE), replace=False)]
    centres = sample[rng.choice(len(sample), size=count, replace=False)].copy()
    for _ in range(KMEANS_ROUNDS):
        assigned = _nearest_centres(sample, centres, 1)[:, 0]
        sums = np.zeros_like(centres)
        np.add.at(sums, assigned, sample)
        sizes = np.bincount(assigned, minlength=count)
        filled = sizes > 0
        centres[filled] = sums[filled] / sizes[filled, None]
    return centres


def _nearest_centres(x: np.ndarray, centres: np.ndarray, count: int) -> np.ndarray:
    """Per row of `x`, the indices of its `count` nearest centres, nearest first."""
    centre_squares = np.einsum("ij,ij->i", centres, centres)
    out = np.empty((len(x), count), dtype=np.int64)
    for start in range(0, len(x), BLOCK):
        # |a|² is the same for every centre: ranking needs |c|² - 2ac only.
        d2 = x[start : start + BLOCK] @ centres.T
        d2 *= -2.0
        d2 += centre_squares[None, :]
        if count == 1:
            top = np.argmin(d2, axis=1)[:, None]
        elif count < len(centres):
            top = np.argpartition(d2, count, axis=1)[:, :count]
        else:
            top = np.broadcast_to(np.arange(len(centres)), d2.shape)
        ranked = np.argsort(np.take_along_axis(d2, top, axis=1), axis=1)
        out[start : start + BLOCK] = np.take_along_axis(top, ranked, axis=1)[:, :count]
    return out


def chinese_whispers(count: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """A cluster label per vertex of the graph with edges (rows[k], cols[k])."""
    edges = list(zip(rows.tolist(), cols.tolist(), strict=True))
    # dlib only knows the vertices that have an edge; give each vertex a self-loop.
    edges.extend((i, i) for i in range(count))
    return np.asarray(dlib.chinese_whispers(edges), dtype=np.int64)


def connected_components(count: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """A label per vertex: single linkage (union-find with path halving)."""
    parent = np.arange(count)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(count)], dtype=np.int64)


def split_shared_assets(
    labels: np.ndarray, vectors: np.ndarray, assets: Sequence[str]
) -> np.ndarray:
    """Relabel so no cluster holds two faces of one asset.

    Of two faces on one asset the one nearer its cluster's centre stays; the other
    leaves the cluster and becomes a cluster of its own.
    """
    out = labels.copy()
    fresh = int(labels.max()) + 1 if len(labels) else 0
    _names, asset_ids = np.unique(np.asarray(assets, dtype=object), return_inverse=True)
    pairs = labels.astype(np.int64) * (len(labels) + 1) + asset_ids.reshape(-1)
    _pairs, counts = np.unique(pairs, return_counts=True)
    shared = set((_pairs[counts > 1] // (len(labels) + 1)).tolist())  # clusters to split
    members: defaultdict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels.tolist()):
        if label in shared:
            members[label].append(index)
    for group in members.values():
        centre = vectors[group].mean(axis=0)
        nearest_first = sorted(group, key=lambda i: float(np.linalg.norm(vectors[i] - centre)))
        seen: set[str] = set()
        for index in nearest_first:
            if assets[index] in seen:
                out[index] = fresh
                fresh += 1
            else:
                seen.add(assets[index])
    return out


def cluster(
    vectors: np.ndarray, assets: Sequence[str], *, threshold: float = CLUSTER_DISTANCE
) -> np.ndarray:
    """Cluster labels for faces (embedding rows) on `assets`: the batch method."""
    if len(vectors) == 0:
        return np.empty(0, dtype=np.int64)
    rows, cols, _ = neighbour_pairs(vectors, threshold)
    labels = chinese_whispers(len(vectors), rows, cols)
    return split_shared_assets(labels, vectors, assets)


@dataclass(frozen=True)
class Placement:
    """Where one new face goes: into an existing cluster, or starting its own."""

    cluster_id: str | None  # None: start a new cluster
    distance: float | None


def place(
    vector: np.ndarray,
    pool: np.ndarray,
    pool_clusters: Sequence[str],
    pool_assets: Sequence[str],
    *,
    asset_id: str,
    threshold: float = CLUSTER_DISTANCE,
) -> Placement:
    """The cluster of the nearest unknown face within `threshold` that has none of `asset_id`.

    The incremental step between full re-clusterings: one new face joins the cluster of
    its nearest neighbour, never a cluster that already holds a face of its own asset.
    """
    if len(pool) == 0:
        return Placement(None, None)
    distances = np.linalg.norm(pool - vector[None, :], axis=1)
    blocked = {c for c, a in zip(pool_clusters, pool_assets, strict=True) if a == asset_id}
    for index in np.argsort(distances, kind="stable"):
        if distances[index] >= threshold:
            break
        if pool_clusters[index] not in blocked:
            return Placement(pool_clusters[index], float(distances[index]))
    return Placement(None, None)


def purity_completeness(labels: Sequence[int], truth: Sequence[str]) -> tuple[float, float, int]:
    """(purity, completeness, most clusters one person is split over) of a clustering.

    Purity: the share of faces that sit in a cluster whose majority is their own person.
    Completeness: the share of faces in their person's largest cluster.
    """
    by_cluster: defaultdict[int, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_person: defaultdict[str, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))
    for label, person in zip(labels, truth, strict=True):
        by_cluster[label][person] += 1
        by_person[person][label] += 1
    total = len(truth)
    purity = sum(max(c.values()) for c in by_cluster.values()) / total
    completeness = sum(max(p.values()) for p in by_person.values()) / total
    return purity, completeness, max(len(p) for p in by_person.values())
