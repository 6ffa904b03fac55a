"""Query expansion (rag.rewrite.Expander): the chat model's terms parsed strictly, cached, bounded; BM25 reads them
only on the chat-model path (and with RAG_EXPAND=auto only when the first retrieval matched little)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from rag.errors import GenerationError
from rag.factory import Components
from rag.generate.chat import ChatGenerator
from rag.ingest import read_bytes
from rag.prompts import load_prompts
from rag.rewrite import WEAK_COVERAGE, Expander, expansion_messages, parse_terms
from tests.helpers import ROOT, unit_settings

Q = "2020年底各银行放出去的借款一共多少？"
DOCS = {
    "loans.txt": "2020年末，全市金融机构本外币各项贷款余额16005.62亿元，比年初增长15.3%。",
    "budget.txt": "2020年全市一般公共预算收入完成500亿元，同比增长5%。",
}


# ---------------------------------------------------------------------------------------------- parsing


def test_terms_are_parsed_strictly() -> None:
    assert parse_terms("贷款余额、金融机构、本外币", Q) == ["贷款余额", "金融机构", "本外币"]
    assert parse_terms("关键词：贷款余额，金融机构; 亿元\n第二行不读", Q) == ["贷款余额", "金融机构", "亿元"]
    # the question's own words, numbers alone, one character, over-long pieces and repeats are no terms
    assert parse_terms("借款、2020、元、本外币各项贷款余额比年初增长、贷款、贷款", Q) == ["贷款"]
    assert parse_terms("a、b、c、d、e、f、g、h、i、j、k、l、mm、nn、oo、pp、qq、rr、ss、tt", Q) == [
        "mm",
        "nn",
        "oo",
        "pp",
        "qq",
        "rr",
    ]
    # an answer or a sentence instead of terms: nothing
    assert parse_terms("2020年末贷款余额为16005.62亿元。", Q) == []
    assert parse_terms("答案：16005.62亿元", Q) == []
    assert parse_terms("", Q) == [] and parse_terms("  \n ", Q) == []


def test_the_prompt_file_becomes_example_turns() -> None:
    template = load_prompts(ROOT / "prompts").templates["expand"]
    msgs = expansion_messages(template, "  一把手是谁？ ")
    assert msgs[0]["role"] == "system" and "正式" in msgs[0]["content"]
    roles = [m["role"] for m in msgs[1:]]
    assert roles[-1] == "user" and roles[:-1] == ["user", "assistant"] * ((len(roles) - 1) // 2) and len(roles) >= 3
    assert msgs[-1]["content"] == "一把手是谁？"
    assert all("问题：" not in m["content"] and "关键词：" not in m["content"] for m in msgs)
    # a question that itself says 问题： stays one turn
    assert expansion_messages(template, "这个问题：谁负责？")[-1]["content"] == "这个问题：谁负责？"


# ---------------------------------------------------------------------------------------------- cache and bounds


class Chat:
    """A fake chat model: fixed pieces, counted calls, an optional pause before the last piece, or a failure."""

    def __init__(self, pieces: tuple[str, ...] = ("贷款余额、", "金融机构"), pause: float = 0.0, fail: bool = False):
        self.pieces, self.pause, self.fail = pieces, pause, fail
        self.calls: list[tuple[list[dict[str, str]], int]] = []
        self.closed = threading.Event()

    def __call__(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        self.calls.append((messages, max_tokens))
        try:
            if self.fail:
                raise GenerationError("the model is down")
            for i, piece in enumerate(self.pieces):
                if i == len(self.pieces) - 1:
                    time.sleep(self.pause)
                yield piece
        finally:
            self.closed.set()


def _messages(q: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": q}]


def test_expansions_are_cached_by_the_normalised_question() -> None:
    chat = Chat()
    ex = Expander(chat, _messages, size=2)
    assert ex.terms(Q) == ["贷款余额", "金融机构"]
    assert ex.terms(" 2020年底各银行放出去的借款 一共多少？") == ["贷款余额", "金融机构"]  # spacing differs: cached
    assert len(chat.calls) == 1 and chat.calls[0][1] == ex.max_tokens <= 32
    ex.terms("问题二？")
    ex.terms("问题三？")  # the cache holds two: the first question is evicted
    ex.terms(Q)
    assert len(chat.calls) == 4
    ex.terms("问题三？")  # still cached (recently used)
    assert len(chat.calls) == 4


def test_a_failed_call_gives_no_terms_a_late_one_its_complete_terms_and_neither_is_cached() -> None:
    down = Chat(fail=True)
    ex = Expander(down, _messages)
    assert ex.terms(Q) == [] and ex.terms(Q) == [] and len(down.calls) == 2
    # stopped past its bound: the terms it had finished are used (the last, "贷", may be half of one), the model
    # released
    slow = Chat(pieces=("贷款余额、", "金融机构、", "本外币、贷"), pause=0.5)
    ex = Expander(slow, _messages, timeout_s=0.2)
    assert ex.terms(Q) == ["贷款余额", "金融机构", "本外币"] and slow.closed.is_set()
    ex.terms(Q)
    assert len(slow.calls) == 2  # asked again: a cut call is not cached
    assert Expander(Chat(pieces=("16005.62亿元。",)), _messages).terms(Q) == []  # an answer, not terms


# ------------------------------------------------------------------------------------------ retrieval and the pipeline


class Model(ChatGenerator):
    """A chat model whose expansion call returns terms and whose answer quotes the loans passage."""

    name = "fake:model"

    def __init__(self, terms: str, **kw) -> None:
        super().__init__(**kw)
        self.terms, self.expansions = terms, 0
        self.last_usage = {}

    def _chat(self, messages, max_tokens) -> Iterator[str]:
        if messages[0]["role"] == "system" and "关键词" not in messages[-1]["content"] and max_tokens <= 32:
            self.expansions += 1
            yield self.terms
        else:
            yield "2020年末贷款余额16005.62亿元[1]。"


def _components(tmp_path, fake_embedder, **kw) -> Components:
    s = unit_settings(tmp_path, **kw)
    comp = Components(s, embedder=fake_embedder)
    for name, text in DOCS.items():
        comp.indexer.update("default", add=read_bytes(text.encode(), name))
    return comp


def test_expansion_terms_lead_bm25_to_the_official_wording(tmp_path, fake_embedder) -> None:
    r = _components(tmp_path, fake_embedder).library.retriever("default")
    plain = r.search(Q, 2, "bm25")
    assert plain.coverage < WEAK_COVERAGE  # only 2020 matches: the question's words are not the documents'
    got = r.search(Q, 2, "bm25", expansion=["贷款余额", "金融机构"])
    assert got.hits[0].chunk.doc_id.startswith("loans") and got.hits[0].score > plain.hits[0].score
    assert got.coverage == plain.coverage  # measured on the question itself
    asked = r.search("2020年末金融机构本外币各项贷款余额是多少？", 2, "bm25")
    assert asked.coverage >= WEAK_COVERAGE and asked.hits[0].chunk.doc_id.startswith("loans")


def test_the_pipeline_expands_only_on_the_chat_model_path(tmp_path, fake_embedder) -> None:
    for mode, weak, strong in (("auto", 1, 0), ("always", 1, 1), ("off", 0, 0)):
        built = _components(tmp_path / mode, fake_embedder, expand=mode)
        model = Model("贷款余额、金融机构", prompts=built.prompts, tokenizer=built.tokenizer)
        comp = Components(built.settings, embedder=fake_embedder, generators={"llm": model})  # the same index
        a = comp.pipeline.ask(Q, generator="llm")
        assert model.expansions == weak
        assert ("query_expanded" in a.flags) == bool(weak) and ("expand" in a.timings_ms) == bool(weak)
        comp.pipeline.ask(Q, generator="llm")  # cached: no second call
        assert model.expansions == weak
        comp.pipeline.ask("2020年末金融机构本外币各项贷款余额是多少？", generator="llm")  # a strong first retrieval
        assert model.expansions == weak + strong
        comp.pipeline.ask("2020年全市预算收入的借款一共多少？", generator="extractive")  # never a model call
        assert model.expansions == weak + strong


def test_eval_scores_retrieval_with_and_without_expansion_and_the_docs_render_it(tmp_path, fake_embedder) -> None:
    """`rag eval --expand auto`: the weak question is expanded (one call), the strong one is not; the figures file
    keeps the comparison and the docs' `expand` block renders it."""
    import json

    from rag.evaluate import docs, run_eval
    from rag.evaluate.docs import compact

    # a fusion that leans on BM25: the fake embedder's vectors say nothing of meaning
    built = _components(tmp_path, fake_embedder, fusion="convex", dense_weight=0.2)
    model = Model("贷款余额、金融机构", prompts=built.prompts, tokenizer=built.tokenizer)
    comp = Components(built.settings, embedder=fake_embedder, generators={"llm": model})
    ev = "各项贷款余额16005.62亿元"
    rows = [
        {"id": "w", "question": Q, "doc": "loans.txt", "evidence": ev, "type": "paraphrase", "split": "test"},
        {"id": "s", "question": "2020年末金融机构本外币各项贷款余额是多少？", "doc": "loans.txt", "evidence": ev}
        | {"type": "numeric", "split": "test"},
        {"id": "u", "question": "2020年全市有多少家银行？", "doc": None, "evidence": "", "type": "unanswerable"}
        | {"split": "test"},
    ]
    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    r = run_eval(comp, qa, 2, modes=("bm25",), answers=False, out=tmp_path / "e.json", verbose=False, expand="auto")
    assert model.expansions == 1  # the weak question only; the unanswerable one is not searched
    x = r["expansion"]
    assert x["mode"] == "auto" and x["generator"] == "llm" and x["n"] == 2 and x["calls"] == 1
    test = x["parts"]["test"]
    assert test["n"] == 2 and test["called"] == 1 and test["expanded"] == 1
    para = test["by_type"]["paraphrase"]
    assert para["hybrid"]["hit@1"] == 0.0 and para["hybrid+expand"]["hit@1"] == 1.0  # the terms found the passage
    assert test["by_type"]["numeric"]["hybrid"] == test["by_type"]["numeric"]["hybrid+expand"]
    assert test["by_type"]["numeric"]["expanded"] == 0
    assert set(r["retrieval"]) == {"bm25", "hybrid", "hybrid+expand"}
    assert "hybrid+expand" in r["by_split"]["test"]["retrieval"]

    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "eval-expand.json").write_text(json.dumps(compact(r), ensure_ascii=False), encoding="utf-8")
    old, docs.FIGURES = docs.FIGURES, figures
    try:
        table = docs.expand()
    finally:
        docs.FIGURES = old
    assert any(
        row.startswith("| test (held out): paraphrase items | hybrid + expansion (auto) | 1 | 1 |") for row in table
    )
    assert "1 calls over the 2 questions searched" in table[-1] and f"below {WEAK_COVERAGE}" in table[-1]
    assert "Measured" in table[-1]


def test_bench_scores_retrieval_with_expansion_on_a_beir_set(tmp_path, fake_embedder) -> None:
    """`rag bench --expand auto`: the weak query calls the model once and its document moves to the top; the strong
    one is searched as it is; the figures file keeps the calls and the renderer shows both rows."""
    import json

    from rag.evaluate import docs, run_bench
    from rag.evaluate.docs import compact

    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    corpus = [{"_id": "loans", "title": "金融", "text": DOCS["loans.txt"]}]
    corpus += [{"_id": "budget", "title": "财政", "text": DOCS["budget.txt"]}]
    queries = [{"_id": "w", "text": Q}, {"_id": "s", "text": "2020年末金融机构本外币各项贷款余额是多少？"}]
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nw\tloans\t1\ns\tloans\t1\n")

    built = _components(tmp_path / "index", fake_embedder, fusion="convex", dense_weight=0.2)
    model = Model("贷款余额、金融机构", prompts=built.prompts, tokenizer=built.tokenizer)
    comp = Components(built.settings, embedder=fake_embedder, generators={"llm": model})
    r = run_bench(comp, folder, mode="hybrid", out=tmp_path / "b.json", verbose=False, expand="auto")
    assert model.expansions == 1 and set(r["modes"]) == {"hybrid", "hybrid+expand"}
    x = r["expansion"]
    assert (x["n"], x["calls"], x["expanded"], x["mode"], x["generator"]) == (2, 1, 1, "auto", "llm")
    assert r["modes"]["hybrid"]["hit@1"] == 0.5 and r["modes"]["hybrid+expand"]["hit@1"] == 1.0

    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "bench-cmrc2018-trial-expand.json").write_text(json.dumps(compact(r)), encoding="utf-8")
    old, docs.FIGURES = docs.FIGURES, figures
    try:
        table = docs.expand_cmrc2018()
    finally:
        docs.FIGURES = old
    assert table[2].startswith("| hybrid | 2 | — | 0.500 |") and table[3].startswith(
        "| hybrid + expansion (auto) | 2 | 1 |"
    )
    assert table[-1].startswith("1 queries called the model")
