"""`rag eval` / `rag bench` end to end with the fake embedder: reports, the reference pipelines, a 10,000-document
BEIR corpus through the real Indexer (counts, progress, and a second run that embeds nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import BadInput
from rag.evaluate import run_bench, run_eval
from rag.evaluate.compare import CHATCHAT_SEPARATORS, build_baselines
from tests.helpers import QA, ROOT, SEEDS

TOPICS = [
    "锂电池",
    "光伏组件",
    "稀土永磁",
    "中医药",
    "航空制造",
    "电子信息",
    "绿色食品",
    "现代纺织",
    "汽车零部件",
    "文化旅游",
]
PLACES = ["南昌", "赣州", "九江", "上饶", "吉安", "宜春", "抚州", "萍乡", "新余", "鹰潭", "景德镇"]


@pytest.fixture
def fake_components(tmp_path, fake_embedder):
    from rag.config import Settings
    from rag.factory import Components

    s = Settings(
        _env_file=None,
        index_dir=tmp_path / "index",
        embed_cache=tmp_path / "cache.sqlite",
        prompts_dir=ROOT / "prompts",
        seeds_dir=SEEDS,
    )
    return Components(s, embedder=fake_embedder)


def _png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


def _qa_with_independent(path: Path) -> Path:
    """The QA set with every third test item marked as an independent one (a synthetic stand-in)."""
    rows = [json.loads(x) for x in QA.read_text(encoding="utf-8").splitlines() if x.strip()]
    tests = [r for r in rows if r["split"] == "test"]
    for r in tests[::3]:
        r["origin"] = "independent"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_writes_json_markdown_and_chart_with_compare(fake_components, fake_embedder, tmp_path) -> None:
    from rag.ingest import load_paths

    fake_components.indexer.update("default", add=load_paths([SEEDS]))
    out = tmp_path / "reports" / "eval-test.json"
    qa = _qa_with_independent(tmp_path / "qa.jsonl")
    report = run_eval(fake_components, qa, out=out, limit=21, compare=True, verbose=False)
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["n"] == 21 and set(saved["retrieval"]) == {"dense", "bm25", "hybrid"}
    hybrid = saved["retrieval"]["hybrid"]
    assert {"hit@1", "hit@5", "mrr@10", "evidence_recall@10", "latency_ms_p50", "latency_ms_p95"} <= set(hybrid)
    assert hybrid["by_type"] and hybrid["by_doc"] and len(hybrid["latencies_ms"]) == 21
    a = saved["answers"]
    assert a["by_doc"] and sum(x["n"] for x in a["by_doc"].values()) == 21
    # answers by origin too, so that one batch of questions (e.g. holdout2) can be reported alone
    assert {"independent", "original"} <= set(a["by_origin"]) and sum(x["n"] for x in a["by_origin"].values()) == 21
    # every listed failure is a retrieval miss at 5 or an answer below 1, with what was returned
    scores = {x["id"]: x["score"] for x in a["items"]}
    for f in saved["failures"]:
        assert f["reasons"] and (scores[f["id"]] < 1 or f["reasons"][0].startswith("retrieval"))
        assert len(f["top3"]) <= 3 and all({"source", "score", "text"} <= set(p) for p in f["top3"])
    # failures are listed for dev items only; test items' are counted, not shown
    split = {x["id"]: x["split"] for x in a["items"]}
    assert {x["id"] for x in saved["failures"]} >= {i for i, s in scores.items() if s < 1 and split[i] == "dev"}
    assert all(split[x["id"]] == "dev" for x in saved["failures"])
    assert saved["failures_held_out"] >= sum(1 for i, s in scores.items() if s < 1 and split[i] == "test")
    # every figure per part, each computed on that part's items alone
    parts = saved["by_split"]
    assert set(parts) == {"dev", "test", "independent"} and parts["dev"]["n"] + parts["test"]["n"] == 21
    assert 0 < parts["independent"]["n"] < parts["test"]["n"]
    for name, part in parts.items():
        mine = [
            x for x in a["items"] if x["split"] == name or (name == "independent" and x.get("origin") == "independent")
        ]
        answered = [x["score"] for x in mine if x["type"] in ("factoid", "numeric", "paraphrase")]
        assert part["answers"]["n"] == len(mine) == part["n"]
        assert part["answers"]["answer_accuracy"] == round(sum(answered) / len(answered), 4)
        assert (
            set(part["retrieval"]) == {"dense", "bm25", "hybrid"} and "latencies_ms" not in part["retrieval"]["hybrid"]
        )
        assert "items" not in part["answers"]
    systems = saved["compare"]["systems"]
    assert set(systems) == {"langchain-tutorial", "chatchat-defaults"}
    assert all(s["n_passages"] > 0 and 0 <= s["hit@5"] <= 1 for s in systems.values())
    assert set(saved["compare"]["vs_ours"]["chatchat-defaults"]) == {
        "hit@1_diff",
        "hit@5_diff",
        "mrr@10_diff",
        "latency_p50_ratio",
    }
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    for heading in (
        "## Retrieval",
        "### Retrieval by question type",
        "### Retrieval by document",
        "## Compared with reference",
        "## Answers",
        "### Answers by document",
        "### Answers by origin",
        "## Failures",
        "](eval-test.png)",
        "## Dev and test",
        "| measure | all (21) | dev (",
        "hybrid hit@5",
        "extractive: answer accuracy",
    ):
        assert heading in md, heading
    w, h = _png_size(out.with_suffix(".png"))
    assert w > 600 and h > 300
    assert report["reports"]["md"] == str(out.with_suffix(".md"))


def test_answers_by_origin_show_a_dash_where_no_item_stands_behind_a_figure() -> None:
    from rag.evaluate.tables import origin_cells

    only_unanswerable = {"answer_accuracy": 0.0, "unanswerable_refused": 0.5, "false_refusal": 0.0}
    only_unanswerable |= {"citation_support": 0.0, "n": 2, "n_accuracy": 0, "n_unanswerable": 2}
    assert origin_cells(only_unanswerable) == ["—", 0.5, "—", "—"]
    lists_only = {**only_unanswerable, "false_refusal": 0.25, "n": 6, "n_unanswerable": 2}
    assert origin_cells(lists_only) == ["—", 0.5, 0.25, 0.0]


def test_eval_runs_one_split(fake_components, tmp_path) -> None:
    from rag.ingest import load_paths

    fake_components.indexer.update("default", add=load_paths([SEEDS]))
    qa = _qa_with_independent(tmp_path / "qa.jsonl")
    r = run_eval(fake_components, qa, out=tmp_path / "e.json", split="test", limit=12, modes=("bm25",), verbose=False)
    assert r["split"] == "test" and r["n"] == 12 and set(r["by_split"]) == {"test", "independent"}
    assert {x["split"] for x in r["answers"]["items"]} == {"test"} and r["failures"] == []
    assert r["by_split"]["test"]["answers"]["answer_accuracy"] == r["answers"]["answer_accuracy"]
    with pytest.raises(BadInput, match="unknown split"):
        run_eval(fake_components, qa, split="train", verbose=False)


def test_reference_pipelines_chunk_as_configured_and_embed_through_the_cache(fake_embedder, tmp_path) -> None:
    from rag.embed.cache import EmbeddingCache
    from rag.types import Document

    text = "\n\n".join(
        f"{p}市{t}产业第{i}段。" + "，".join(f"{p}{t}企业{j}家" for j in range(30)) + "。"
        for i, (p, t) in enumerate(zip(PLACES, TOPICS, strict=False))
    )
    docs = [Document("d1", "d1.txt", "标题", text), Document("d2", "d2.txt", "另一篇", "景德镇陶瓷产业产值增长12%。")]
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    tutorial, chatchat = build_baselines(docs, fake_embedder, cache)
    first = fake_embedder.embedded
    assert tutorial.chunking == {"chunk_size": 500, "chunk_overlap": 50}
    assert chatchat.chunking["chunk_size"] == 750 and chatchat.chunking["separators"] == CHATCHAT_SEPARATORS
    assert tutorial.n_passages > chatchat.n_passages >= 2
    hits = chatchat.search("景德镇陶瓷产业产值", 3)
    assert hits[0].doc_id == "d2" and hits[0].source == "d2.txt"
    assert all(len(p.text) <= 500 for p in tutorial.search("赣州锂电池", 5))
    build_baselines(docs, fake_embedder, cache)
    assert fake_embedder.embedded == first  # every passage came from the cache


def _growth(i: int) -> int:
    """Document i's growth figure: never its code's number (a question's own number is no answer to it)."""
    return i % 97 + 100


def _beir(folder: Path, n_docs: int, n_queries: int) -> Path:
    """A generated BEIR dataset: one short, distinct document per id; query i asks about document i * stride."""
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as f:
        for i in range(n_docs):
            p, t = PLACES[i % len(PLACES)], TOPICS[(i // len(PLACES)) % len(TOPICS)]
            text = f"{p}的{t}项目编号X{i}Y，年产值增长{_growth(i)}%。"
            row = {"_id": f"doc{i}", "title": f"{p}{t}简报{i}", "text": text}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    stride = n_docs // n_queries
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as fq, open(folder / "qrels" / "test.tsv", "w") as fr:
        fr.write("query-id\tcorpus-id\tscore\n")
        for q in range(n_queries):
            fq.write(
                json.dumps({"_id": f"q{q}", "text": f"项目编号X{q * stride}Y的产值增长多少"}, ensure_ascii=False) + "\n"
            )
            fr.write(f"q{q}\tdoc{q * stride}\t1\n")
    return folder


def test_bench_indexes_a_10000_document_beir_corpus_once(fake_components, fake_embedder, tmp_path) -> None:
    folder = _beir(tmp_path / "gen10k", 10_000, 40)
    calls: list[tuple[str, int, int]] = []
    out = tmp_path / "bench.json"
    r = run_bench(fake_components, folder, out=out, progress=lambda *a: calls.append(a), verbose=False)
    assert r["n_documents"] == 10_000 and r["n_passages"] == 10_000 and r["embedded"] == 10_000
    assert fake_embedder.embedded == 10_000
    assert ("embedding", 10_000, 10_000) in calls and ("search hybrid", 40, 40) in calls
    assert r["collection"] == "bench-gen10k" and r["n_queries"] == 40 and set(r["modes"]) == {"dense", "bm25", "hybrid"}
    for m in r["modes"].values():
        assert {
            "hit@1",
            "hit@5",
            "hit@10",
            "mrr@10",
            "ndcg@10",
            "recall@100",
            "latency_ms_p50",
            "latency_ms_p95",
        } <= set(m)
        assert m["docs_reached_deep"]["min"] >= 100 or m is r["modes"]["bm25"]
    # the unique code in each query is a BM25 term: the asked document comes first
    assert r["modes"]["bm25"]["hit@1"] >= 0.9 and r["modes"]["hybrid"]["hit@5"] >= 0.9
    assert out.exists() and out.with_suffix(".md").exists() and _png_size(out.with_suffix(".png"))[0] > 600

    again = run_bench(fake_components, folder, out=out, verbose=False)
    assert again["embedded"] == 0 and fake_embedder.embedded == 10_000
    assert again["modes"]["bm25"]["mrr@10"] == r["modes"]["bm25"]["mrr@10"]


def test_bench_drops_documents_gone_from_the_corpus_and_scores_a_limited_subset(fake_components, tmp_path) -> None:
    folder = _beir(tmp_path / "small", 60, 20)
    run_bench(fake_components, folder, out=tmp_path / "b.json", verbose=False)
    lines = (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "corpus.jsonl").write_text("\n".join(lines[:50]) + "\n", encoding="utf-8")
    r = run_bench(fake_components, folder, mode="bm25", limit=5, out=tmp_path / "b.json", verbose=False)
    assert r["n_documents"] == 50 and r["embedded"] == 0 and set(r["modes"]) == {"bm25"} and r["n_queries"] == 5
    # only the 5 queries run are scored (their documents are all still there)
    assert r["modes"]["bm25"]["n_queries"] == 5 and r["modes"]["bm25"]["hit@1"] >= 0.8


def test_bench_rejects_a_folder_that_is_not_beir(fake_components, tmp_path) -> None:
    with pytest.raises(BadInput, match="not a BEIR dataset"):
        run_bench(fake_components, tmp_path, verbose=False)


def test_bench_answers_scores_end_to_end_answers_on_the_same_queries(fake_components, tmp_path) -> None:
    folder = _beir(tmp_path / "ans", 60, 12)
    rows = [json.loads(x) for x in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    for r in rows:  # the gold answer: the growth figure of the asked document; every other query has none
        i = int(r["text"][5:].split("Y")[0])
        if int(r["_id"][1:]) % 2 == 0:
            r["metadata"] = {"answers": [[f"{_growth(i)}%", f"百分之{_growth(i)}"]]}
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    out = tmp_path / "b.json"
    r = run_bench(fake_components, folder, mode="bm25", out=out, answers=("extractive",), verbose=False)
    a = r["answers"]["extractive"]
    assert a["n"] == 6 and len(a["items"]) == 6  # only the queries with answers are asked
    assert a["accuracy"] == round(sum(x["correct"] for x in a["items"]) / 6, 4)
    assert a["refused"] == round(sum(not x["answerable"] for x in a["items"]) / 6, 4)
    for x in a["items"]:
        assert not x["correct"] or (x["answerable"] and any(g in x["answer"] for g in x["gold"][0]))
        assert x["evidence"] <= x["supported"] and x["citations_supporting"] <= x["citations"]
    assert a["accuracy"] >= 0.5  # the figure is in the one passage that holds the query's unique code
    assert "## Answers (end to end)" in out.with_suffix(".md").read_text(encoding="utf-8")
    with pytest.raises(BadInput, match="metadata.answers"):
        run_bench(
            fake_components,
            _beir(tmp_path / "none", 20, 4),
            mode="bm25",
            out=out,
            answers=("extractive",),
            verbose=False,
        )


def test_docs_blocks_are_generated_from_the_figures_and_checked(tmp_path, monkeypatch, capsys) -> None:
    from rag.evaluate import docs

    env = {"cpu": {"model": "Test CPU", "avx512_vnni": False}, "cpus": 2, "time": "2026-11-30 02:00:00"}

    def part(n: int, acc: float) -> dict:
        return {
            "n": n,
            "retrieval": {"hybrid": {"hit@1": 0.9, "hit@5": 0.98, "mrr@10": 0.95}},
            "answers": {
                "answer_accuracy": acc,
                "unanswerable_refused": 0.8,
                "false_refusal": 0.05,
                "citation_support": 0.9,
                "n": n,
            },
        }

    ext = {
        "kind": "eval",
        "parts": {"all": part(20, 0.75), "dev": part(10, 0.8), "test": part(10, 0.7)},
        "environment": env,
    }
    figs = tmp_path / "figures"
    figs.mkdir()
    (figs / "eval-extractive.json").write_text(json.dumps(ext), encoding="utf-8")
    monkeypatch.setattr(docs, "FIGURES", figs)
    page = tmp_path / "page.md"
    page.write_text(
        "intro\n<!-- BEGIN figures:qa-splits -->\nold table\n<!-- END figures:qa-splits -->\nprose\n", encoding="utf-8"
    )
    assert docs.main(["--check", str(page)]) == 1 and "old table" in page.read_text(encoding="utf-8")
    assert docs.main([str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith(
        "intro\n<!-- BEGIN figures:qa-splits -->\n| measure | test (held out) | dev (tuned on) | all |"
    )
    assert "| extractive: answer accuracy | 0.700 | 0.800 | 0.750 |" in text and text.endswith("-->\nprose\n")
    assert "Test CPU, 2 cores, AVX2 only" in text and "old table" not in text
    assert docs.main(["--check", str(page)]) == 0  # up to date now
    ext["parts"]["test"]["answers"]["answer_accuracy"] = 0.71
    (figs / "eval-extractive.json").write_text(json.dumps(ext), encoding="utf-8")
    assert docs.main(["--check", str(page)]) == 1  # the results changed: the block is stale
    page.write_text("<!-- BEGIN figures:nope -->\n<!-- END figures:nope -->\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="unknown figures block 'nope'"):
        docs.main([str(page)])
    capsys.readouterr()


def test_compact_figures_keep_every_part_and_drop_per_item_lists() -> None:
    from rag.evaluate.docs import compact

    r = {
        "kind": "eval",
        "qa": "qa.jsonl",
        "n": 2,
        "generator": "extractive",
        "environment": {"cpus": 2},
        "retrieval": {"hybrid": {"hit@1": 1.0, "mrr@10": 1.0, "latencies_ms": [1.0, 2.0], "by_type": {}}},
        "answers": {"answer_accuracy": 0.5, "n": 2, "items": [{}, {}], "latencies_ms": [3.0]},
        "by_split": {
            "dev": {"n": 1, "retrieval": {"hybrid": {"hit@1": 1.0}}, "answers": {"answer_accuracy": 1.0, "n": 1}}
        },
    }
    c = compact(r)
    assert set(c["parts"]) == {"all", "dev"} and c["parts"]["all"]["retrieval"]["hybrid"] == {
        "hit@1": 1.0,
        "mrr@10": 1.0,
    }
    assert c["parts"]["all"]["answers"] == {"answer_accuracy": 0.5, "n": 2} and "items" not in json.dumps(c)
