"""dlib's ResNet face descriptor, run with numpy matrix products instead of inside dlib.

The dlib-bin wheel is built without BLAS: its network takes 85-100 ms per face here, more
than all of detection. The same weights run through numpy's BLAS (all faces of a photo
in one product per layer) take ~9 ms per face and give the same vectors
(tests/test_faces_resnet.py compares them with dlib's own).

The weights are read from the model file of face-recognition-models
(`dlib_face_recognition_resnet_model_v1.dat`, dlib's serialisation): each layer's record
is found by its version string (the loss layer first, then the network from its input
on) and read in the layout dlib writes it. The architecture is the one of dlib's
`dnn_face_recognition_ex.cpp`: a 7x7 convolution and a max-pool, residual blocks of two
3x3 convolutions (each followed by a per-channel scale and shift), global average
pooling and a 128-wide linear layer. The file's layer sequence is checked against it, so
another file is refused instead of misread.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dam.errors import N_, ProcessingError

CHIP_SIZE = 150  # dlib extracts 150x150 aligned chips with 25 % padding
CHIP_PADDING = 0.25

# (filters, downsample) per residual block, input side first.
BLOCKS = (
    *[(32, False)] * 3,
    (64, True), *[(64, False)] * 3,
    (128, True), *[(128, False)] * 2,
    (256, True), *[(256, False)] * 2,
    (256, True),
)  # fmt: skip

_MARKER = re.compile(
    rb"\x01(?:\x05con_4|\x07affine_|\x05relu_|\x0amax_pool_2|\x0aavg_pool_2|\x09add_prev_"
    rb"|\x04fc_2|\x15input_rgb_image_sized|\x0dloss_metric_2)"
)


@dataclass(frozen=True)
class Conv:
    """A convolution with the following per-channel affine folded in: (filters, c, kh, kw)."""

    kernel: np.ndarray  # (kh * kw * c, filters), rows ordered kh, kw, c
    bias: np.ndarray
    size: int
    stride: int
    padding: int


@dataclass(frozen=True)
class Network:
    mean: np.ndarray  # per RGB channel, in 0..255
    stem: Conv
    pool: tuple[int, int, int]  # max-pool window, stride, padding
    blocks: tuple[tuple[Conv, Conv, bool], ...]
    projection: np.ndarray  # (256, 128)


class _Reader:
    """dlib's serialised values: variable-length integers, strings, floats and tensors."""

    def __init__(self, data: bytes, offset: int) -> None:
        self.data, self.at = data, offset

    def integer(self) -> int:
        head = self.data[self.at]
        size = head & 0x0F
        value = int.from_bytes(self.data[self.at + 1 : self.at + 1 + size], "little")
        self.at += 1 + size
        return -value if head & 0x80 else value

    def string(self) -> str:
        length = self.integer()
        text = self.data[self.at : self.at + length].decode("ascii")
        self.at += length
        return text

    def real(self) -> float:
        mantissa = self.integer()
        return float(mantissa * 2.0 ** self.integer())

    def tensor(self) -> np.ndarray:
        if self.integer() != 2:
            raise ValueError("unknown tensor version")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.at)
        self.at += 4 * count
        return values.reshape(shape).astype(np.float32)


def load(path: Path) -> Network:
    """The network in a dlib face recognition model file."""
    data = path.read_bytes()
    try:
        records = [_read(data, m.start()) for m in _MARKER.finditer(data)]
        return _assemble(records)
    except (ValueError, IndexError, KeyError, struct.error) as exc:
        raise ProcessingError(
            N_("%(file)s is not dlib's ResNet face descriptor model (%(detail)s)"),
            params={"file": path.name, "detail": str(exc)},
        ) from exc


def _read(data: bytes, offset: int) -> tuple[str, dict[str, Any]]:
    reader = _Reader(data, offset)
    kind = reader.string()
    if kind == "con_4":
        params = reader.tensor().reshape(-1)
        filters = reader.integer()
        rows, cols, stride_y, stride_x = (reader.integer() for _ in range(4))
        pad_y, pad_x = reader.integer(), reader.integer()
        if rows != cols or stride_y != stride_x or pad_y != pad_x:
            raise ValueError("non-square convolution")
        weights = params[: params.size - filters]
        return kind, {
            "kernel": weights.reshape(filters, -1, rows, cols),
            "bias": params[params.size - filters :],
            "stride": stride_y,
            "padding": pad_y,
        }
    if kind == "affine_":
        params = reader.tensor().reshape(-1)
        half = params.size // 2
        return kind, {"gamma": params[:half], "beta": params[half:]}
    if kind in ("max_pool_2", "avg_pool_2"):
        rows, cols, stride_y, _stride_x, pad_y, _pad_x = (reader.integer() for _ in range(6))
        return kind, {"size": rows, "everything": rows == 0 and cols == 0,
                      "stride": stride_y, "padding": pad_y}  # fmt: skip
    if kind == "fc_2":
        outputs, inputs = reader.integer(), reader.integer()
        params = reader.tensor().reshape(-1)
        return kind, {"weights": params[: inputs * outputs].reshape(inputs, outputs)}
    if kind == "input_rgb_image_sized":
        mean = np.array([reader.real() for _ in range(3)], dtype=np.float32)
        if reader.integer() != CHIP_SIZE or reader.integer() != CHIP_SIZE:
            raise ValueError("unexpected input size")
        return kind, {"mean": mean}
    return kind, {}


def _assemble(records: list[tuple[str, dict[str, Any]]]) -> Network:
    stream = iter(records)

    def take(kind: str) -> dict[str, Any]:
        found, fields = next(stream, ("the end of the file", {}))
        if found != kind:
            raise ValueError(f"expected {kind}, found {found}")
        return fields

    def conv() -> Conv:
        raw, scale = take("con_4"), take("affine_")
        kernel, gamma, beta = raw["kernel"], scale["gamma"], scale["beta"]
        filters, _channels, size, _ = kernel.shape
        if gamma.shape != (filters,):
            raise ValueError("scale and convolution differ in channels")
        # Rows in the order of the patches `_conv` cuts: kernel row, column, channel.
        folded = (kernel * gamma[:, None, None, None]).transpose(2, 3, 1, 0).reshape(-1, filters)
        return Conv(
            kernel=np.ascontiguousarray(folded, dtype=np.float32),
            bias=(raw["bias"] * gamma + beta).astype(np.float32),
            size=size,
            stride=raw["stride"],
            padding=raw["padding"],
        )

    take("loss_metric_2")  # the loss layer writes itself before its network
    mean = take("input_rgb_image_sized")["mean"]
    stem = conv()
    take("relu_")
    pool = take("max_pool_2")
    blocks = []
    for filters, down in BLOCKS:
        first = conv()
        take("relu_")
        second = conv()
        if first.kernel.shape[1] != filters or second.kernel.shape[1] != filters:
            raise ValueError(f"expected {filters} filters in a residual block")
        if down:
            shortcut = take("avg_pool_2")
            if shortcut["size"] != 2 or shortcut["stride"] != 2 or shortcut["padding"] != 0:
                raise ValueError("unexpected shortcut pooling")
        take("add_prev_")
        take("relu_")
        blocks.append((first, second, down))
    if not take("avg_pool_2")["everything"]:
        raise ValueError("expected global average pooling")
    projection = take("fc_2")["weights"]
    if next(stream, None) is not None:
        raise ValueError("unexpected layers after the loss")
    return Network(
        mean=mean,
        stem=stem,
        pool=(pool["size"], pool["stride"], pool["padding"]),
        blocks=tuple(blocks),
        projection=np.ascontiguousarray(projection, dtype=np.float32),
    )


def describe_chips(network: Network, chips: np.ndarray) -> np.ndarray:
    """128-d descriptors (rows) for aligned RGB uint8 chips of shape (n, 150, 150, 3)."""
    x = (chips.astype(np.float32) - network.mean) / 256.0
    x = _relu(_conv(x, network.stem))
    x = _max_pool(x, *network.pool)
    for first, second, down in network.blocks:
        y = _conv(_relu(_conv(x, first)), second)
        shortcut = _avg_pool_2(x) if down else x
        x = _relu(_add_padded(y, shortcut))
    pooled = x.mean(axis=(1, 2))
    return pooled @ network.projection


def _conv(x: np.ndarray, layer: Conv) -> np.ndarray:
    """Cross-correlation over NHWC input, by one matrix product over all patches."""
    if layer.padding:
        p = layer.padding
        x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    n, height, width, channels = x.shape
    k, s = layer.size, layer.stride
    out_h, out_w = (height - k) // s + 1, (width - k) // s + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
    windows = windows[:, : (out_h - 1) * s + 1 : s, : (out_w - 1) * s + 1 : s]
    # (n, out_h, out_w, k, k, channels): the kernel's row order, and the copy reads each
    # pixel's channels in one run (channels last took 40 % of the network's time).
    patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * out_h * out_w, k * k * channels)
    out = patches @ layer.kernel
    out += layer.bias
    return out.reshape(n, out_h, out_w, -1)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def _max_pool(x: np.ndarray, size: int, stride: int, padding: int) -> np.ndarray:
    if padding:
        x = np.pad(x, ((0, 0), (padding,) * 2, (padding,) * 2, (0, 0)), constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))
    return np.ascontiguousarray(windows[:, ::stride, ::stride].max(axis=(4, 5)))


def _avg_pool_2(x: np.ndarray) -> np.ndarray:
    n, height, width, channels = x.shape
    h, w = height // 2, width // 2
    return x[:, : 2 * h, : 2 * w].reshape(n, h, 2, w, 2, channels).mean(axis=(2, 4))


def _add_padded(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dlib's add_prev: the larger shape of both, each zero where it has no value."""
    shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, dtype=np.float32)
    out[: a.shape[0], : a.shape[1], : a.shape[2], : a.shape[3]] += a
    out[: b.shape[0], : b.shape[1], : b.shape[2], : b.shape[3]] += b
    return out
