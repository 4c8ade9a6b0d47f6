"""Grouping unknown faces that look alike, so a person is named once per group.

Pure functions over embeddings (rows of a float32 matrix). The batch method is Chinese
whispers (Biemann 2006, as in dlib) over the graph of pairs closer than a threshold;
bench/faces.py measured it against DBSCAN, HDBSCAN and plain connected components. The
graph is built exactly, with blocked matrix products (bench/faces.py times 100,000 faces).

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


def neighbour_pairs(
    vectors: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (i < j) closer than `threshold`: rows i, rows j, distances (exact)."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    squares = np.einsum("ij,ij->i", x, x)
    limit = threshold * threshold
    found_i, found_j, found_d = [], [], []
    for start in range(0, len(x), BLOCK):
        stop = min(start + BLOCK, len(x))
        # |a-b|² = |a|² + |b|² - 2ab against rows from `start` on (upper triangle), in
        # place: at 100,000 faces the temporaries would cost as much as the product.
        d2 = x[start:stop] @ x[start:].T
        d2 *= -2.0
        d2 += squares[None, start:]
        d2 += squares[start:stop, None]
        qi, mj = np.nonzero(d2 < limit)
        keep = qi + start < mj + start
        qi, mj = qi[keep], mj[keep]
        found_i.append(qi + start)
        found_j.append(mj + start)
        found_d.append(np.sqrt(np.maximum(d2[qi, mj], 0.0)))
    if not found_i:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.float32)
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)


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
    members: defaultdict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels.tolist()):
        members[label].append(index)
    for group in members.values():
        if len(group) < 2:
            continue
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
