"""The evaluation log of the local LLM's completions (rag.generate.replay): replayed only for the same prompt,
never torn, never read by the service."""

from __future__ import annotations

import json

import pytest

from rag.config import Settings
from rag.errors import ConfigError
from rag.evaluate.docs import _measured
from rag.generate.llm import LlamaCppGenerator
from rag.generate.replay import CompletionLog, prompt_key

MSGS = [{"role": "system", "content": "只根据资料回答。"}, {"role": "user", "content": "南昌2020年GDP是多少？"}]


def test_a_completion_is_found_again_only_for_the_same_prompt_model_and_limit(tmp_path):
    log = CompletionLog(tmp_path / "log.jsonl", "cpu A")
    key = prompt_key("m", MSGS, 200)
    log.put(key, "5745.51亿元[1]", {"prompt_tokens": 10, "completion_tokens": 3})
    again = CompletionLog(tmp_path / "log.jsonl")
    assert again.get(key)["text"] == "5745.51亿元[1]"
    other = [MSGS[0], {"role": "user", "content": "南昌2021年GDP是多少？"}]
    assert again.get(prompt_key("m", other, 200)) is None
    assert again.get(prompt_key("m", MSGS, 100)) is None
    assert again.get(prompt_key("m2", MSGS, 200)) is None
    assert again.counts() == {"log": str(tmp_path / "log.jsonl"), "replayed": 1, "generated": 0, "cpus": ["cpu A"]}


def test_a_torn_last_line_is_dropped_and_a_broken_middle_line_fails(tmp_path):
    path = tmp_path / "log.jsonl"
    good = json.dumps({"key": "k1", "text": "甲", "usage": {}, "cpu": "c"}, ensure_ascii=False)
    path.write_text(good + "\n" + '{"key": "k2", "te', encoding="utf-8")
    log = CompletionLog(path)
    assert log.get("k1")["text"] == "甲" and log.get("k2") is None
    log.put("k3", "乙", {})
    assert [json.loads(line)["key"] for line in path.read_text(encoding="utf-8").splitlines()] == ["k1", "k3"]
    path.write_text("not json\n" + good + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1"):
        CompletionLog(path)


def _generator(log: CompletionLog, pieces: list[str]) -> tuple[LlamaCppGenerator, list[int]]:
    gen = LlamaCppGenerator.__new__(LlamaCppGenerator)  # the replay logic without loading a model
    gen.replay, gen._model_key, gen.last_usage = log, "m", {}
    calls = [0]

    def generate(messages, max_tokens):
        calls[0] += 1
        gen.last_usage = {"prompt_tokens": 7, "completion_tokens": len(pieces)}
        yield from pieces

    gen._generate = generate
    return gen, calls


def test_the_model_runs_once_per_prompt_and_a_stopped_completion_is_not_logged(tmp_path):
    log = CompletionLog(tmp_path / "log.jsonl")
    gen, calls = _generator(log, ["5745", ".51亿元", "[1]"])
    stream = gen._chat(MSGS, 200)
    assert next(stream) == "5745"
    stream.close()  # a client that went away, or a timeout: the completion is partial
    assert log.counts()["generated"] == 0
    assert "".join(gen._chat(MSGS, 200)) == "5745.51亿元[1]" and calls[0] == 2
    gen.last_usage = {}
    assert "".join(gen._chat(MSGS, 200)) == "5745.51亿元[1]" and calls[0] == 2
    assert gen.last_usage == {"prompt_tokens": 7, "completion_tokens": 3}
    assert log.counts()["replayed"] == 1 and log.counts()["generated"] == 1


def test_the_service_refuses_to_start_with_a_replay_log(tmp_path):
    from rag.api.app import create_app

    with pytest.raises(ConfigError, match="RAG_LLM_REPLAY_LOG"):
        create_app(Settings(llm_replay_log=tmp_path / "log.jsonl"))


def test_figures_say_how_many_completions_were_replayed():
    env = {"time": "2026-11-30 22:00:00", "cpu": {"model": "AMD EPYC"}, "cpus": 2, "commit": "abc1234"}
    fresh = {"environment": env, "settings": {}}
    replayed = {
        "environment": env,
        "settings": {"llm_replay": {"replayed": 250, "generated": 18, "cpus": ["AMD EPYC, 2 cores"]}},
    }
    assert "log" not in _measured(fresh)
    assert "250 of the local LLM's 268 completions read from a log" in _measured(replayed)
    assert "AMD EPYC, 2 cores)" in _measured(replayed)
