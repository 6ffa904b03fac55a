"""The machine a figure was measured on: CPU model, SIMD extensions, cores and load, with the code's git state."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

from rag.evaluate.provenance import git_state

# The SIMD extensions the encoders and the local LLM choose their kernels by.
SIMD_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx_vnni",
    "amx_int8",
    "amx_bf16",
)


def cpu() -> dict[str, Any]:
    """The CPU's model name, its SIMD_FLAGS and whether it has AVX-512 VNNI (the int8 kernels and the local LLM are
    2-3x slower without it), from /proc/cpuinfo; the platform's processor name elsewhere."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {"model": platform.processor() or platform.machine(), "avx512_vnni": None, "simd": []}
    model = next(
        (ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), platform.machine()
    )
    flags = next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), [])
    return {"model": model, "avx512_vnni": "avx512_vnni" in flags, "simd": [f for f in SIMD_FLAGS if f in flags]}


def cpu_line(env: dict[str, Any]) -> str:
    c = env.get("cpu") or {}
    vnni = {True: "with AVX-512 VNNI", False: "AVX2 only, no AVX-512 VNNI"}.get(c.get("avx512_vnni"), "")
    return f"{c.get('model', '?')}, {env.get('cpus', '?')} cores" + (f", {vnni}" if vnni else "")


def environment() -> dict[str, Any]:
    """Where and with which code the figures were taken: latency depends on the machine and on what else it was
    running; the commit (and whether the tree differed from it) says which code measured."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu(),
        "load_average": load,
        "python": platform.python_version(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        **git_state(),
    }
