"""The local LLM through llama-cpp-python (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, bundled)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from rag import cancel
from rag.errors import ConfigError, GenerationError
from rag.generate.chat import ChatGenerator
from rag.generate.replay import CompletionLog, prompt_key

MODEL_ID = "qwen2.5-coder-1.5b"


class LlamaCppGenerator(ChatGenerator):
    name = f"llm:{MODEL_ID}"

    def __init__(
        self, model_path: Path, n_ctx: int = 4096, threads: int = 0, replay: CompletionLog | None = None, **kw
    ):
        super().__init__(**kw)
        self.replay = replay  # evaluation only (rag.generate.replay)
        self._model_key = f"{MODEL_ID}:{Path(model_path).name}:{Path(model_path).stat().st_size}"
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ConfigError("the local LLM needs llama-cpp-python (pip install -e '.[llm]')") from e
        self._llm = Llama(
            model_path=str(model_path),
            n_ctx=n_ctx,
            n_threads=threads or os.cpu_count() or 2,
            n_batch=512,
            verbose=False,
        )
        self._lock = threading.Lock()  # one generation at a time; llama.cpp keeps one KV cache
        # llama.cpp polls this between graph nodes: a client that went away stops a prompt evaluation mid-way
        # (rag.cancel)
        import llama_cpp

        self._stop: threading.Event | None = None
        self._abort = llama_cpp.ggml_abort_callback(lambda _: bool(self._stop is not None and self._stop.is_set()))
        llama_cpp.llama_set_abort_callback(self._llm._ctx.ctx, self._abort, None)

    def _chat(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        if self.replay is None:
            yield from self._generate(messages, max_tokens)
            return
        key = prompt_key(self._model_key, messages, max_tokens)
        entry = self.replay.get(key)
        if entry is not None:
            self.last_usage = dict(entry["usage"])
            if entry["text"]:
                yield entry["text"]
            return
        pieces: list[str] = []
        for piece in self._generate(messages, max_tokens):
            pieces.append(piece)
            yield piece
        stop = cancel.current()
        if stop is None or not stop.is_set():  # a whole completion only: not one stopped by a client
            self.replay.put(key, "".join(pieces), dict(self.last_usage))

    def _generate(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        with self._lock:
            self._stop = cancel.current()
            try:
                # The system prompt is an identical token prefix on every call, so llama-cpp-python keeps its
                # KV cache and evaluates only the passages and the question.
                stream = self._llm.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.1, stream=True
                )
                n = 0
                for chunk in stream:
                    text = chunk["choices"][0]["delta"].get("content")
                    if text:
                        n += 1
                        yield text
            except (RuntimeError, ValueError) as e:
                raise GenerationError(f"local LLM failed: {e}") from e
            finally:
                self._stop = None
            prompt_tokens = len(
                self._llm.tokenize("".join(m["content"] for m in messages).encode("utf-8"), add_bos=False)
            )
            self.last_usage = {"prompt_tokens": prompt_tokens, "completion_tokens": n}
