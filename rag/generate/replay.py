"""A log of the local LLM's completions keyed by the exact prompt, for evaluation (RAG_LLM_REPLAY_LOG).

The local LLM decodes greedily (temperature 0), so a prompt it has seen gives the same completion again. `rag eval`
and `rag bench --answers` with a log read a recorded completion for every prompt that is byte-for-byte unchanged and
run the model only for the others: a change to the verifier, the judge or the rendering is re-measured in minutes,
while any change that reaches the prompt (retrieval, excerpts, the prompt files) runs the model for that item. The
key covers the messages, the token limit and the model file; each entry keeps the CPU it was generated on, and the
reports count replayed and generated completions. The service never reads a log: answers to users always come from
the model."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from rag.errors import ConfigError


def prompt_key(model: str, messages: list[dict[str, str]], max_tokens: int) -> str:
    blob = json.dumps([model, max_tokens, messages], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CompletionLog:
    """An append-only JSONL file of {"key", "text", "usage", "cpu"}; the last entry of a key wins."""

    def __init__(self, path: Path, cpu: str = ""):
        self.path = Path(path)
        self.cpu = cpu
        self.replayed = 0
        self.generated = 0
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8")
            lines = text.splitlines()
            if text and not text.endswith("\n"):  # a torn last line: dropped, so the next entry starts clean
                lines = lines[:-1]
                self.path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    e = json.loads(line)
                    self._entries[e["key"]] = e
                except (ValueError, KeyError, TypeError) as err:
                    if n < len(lines):  # only the last line can be torn (a run killed mid-write); it is re-generated
                        raise ConfigError(f"{self.path}: line {n} is not a completion log entry") from err

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            e = self._entries.get(key)
            if e is not None:
                self.replayed += 1
            return e

    def put(self, key: str, text: str, usage: dict[str, int]) -> None:
        e = {"key": key, "text": text, "usage": usage, "cpu": self.cpu}
        with self._lock:
            self.generated += 1
            self._entries[key] = e
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")

    def counts(self) -> dict[str, Any]:
        cpus = sorted({e.get("cpu", "") for e in self._entries.values()} - {""})
        return {"log": str(self.path), "replayed": self.replayed, "generated": self.generated, "cpus": cpus}
