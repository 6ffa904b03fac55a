"""Any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, hosted models) through langchain-openai."""

from __future__ import annotations

from collections.abc import Iterator

from rag.config import default
from rag.errors import ConfigError, GenerationError
from rag.generate.chat import ChatGenerator


class OpenAIGenerator(ChatGenerator):
    def __init__(self, base_url: str, model: str, api_key: str = "", timeout_s: float = default("llm_timeout_s"), **kw):
        super().__init__(timeout_s=timeout_s, **kw)
        if not base_url or not model:
            raise ConfigError("the openai generator needs RAG_OPENAI_BASE_URL and RAG_OPENAI_MODEL")
        from langchain_openai import ChatOpenAI

        self.name = f"openai:{model}"
        self._chat_model = ChatOpenAI(
            base_url=base_url, model=model, api_key=api_key or "unused", temperature=0, timeout=timeout_s, max_retries=1
        )

    def _chat(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        n = 0
        try:
            for chunk in self._chat_model.stream(messages, max_tokens=max_tokens):
                if chunk.content:
                    n += 1
                    yield str(chunk.content)
        except Exception as e:
            raise GenerationError(f"OpenAI-compatible endpoint failed: {e}") from e
        self.last_usage = {"completion_tokens": n}
