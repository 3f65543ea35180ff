"""Write a tiny ArcFace-shaped ONNX model by hand (the ``onnx`` package clashes with mediapipe).

The model maps a ``(N, 3, 112, 112)`` input to a ``(N, 16)`` vector by a fixed random projection
of the pixels: the same interface as insightface's recognition models (``w600k_r50.onnx``), small
enough to build in a test. Only the protobuf wire format is needed for the few messages used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | int | str) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint((number << 3) | 2) + _varint(len(data)) + data


def _value_info(name: str, dims: list[int | str]) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in dims)
    tensor_type = _field(1, 1) + _field(2, shape)  # elem_type FLOAT, shape
    return _field(1, name) + _field(2, _field(1, tensor_type))


def write_tiny_recognition_model(path: Path, dim: int = 16, seed: int = 0) -> Path:
    """Write the model to ``path`` and return it."""
    rng = np.random.default_rng(seed)
    weight = rng.normal(0, 1, (3 * 112 * 112, dim)).astype(np.float32)
    initializer = (
        b"".join(_field(1, d) for d in weight.shape)
        + _field(2, 1)  # FLOAT
        + _field(8, "w")
        + _field(9, weight.tobytes())
    )
    flatten = _field(1, "input.1") + _field(2, "flat") + _field(3, "f") + _field(4, "Flatten")
    matmul = (
        _field(1, "flat") + _field(1, "w") + _field(2, "embedding") + _field(3, "m")
        + _field(4, "MatMul")
    )  # fmt: skip
    graph = (
        _field(1, flatten)
        + _field(1, matmul)
        + _field(2, "tiny_arcface")
        + _field(5, initializer)
        + _field(11, _value_info("input.1", ["N", 3, 112, 112]))
        + _field(12, _value_info("embedding", ["N", dim]))
    )
    model = _field(1, 8) + _field(8, _field(2, 13)) + _field(7, graph)  # ir 8, opset 13
    path.write_bytes(model)
    return path
