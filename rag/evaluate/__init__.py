"""`rag eval` and `rag bench`: the metrics defined in API.md, computed one way for everyone.

- `metrics`: evidence hits, answer scores, QA retrieval scores; document-level IR metrics (ranx)
- `qa`: `rag eval` (retrieval per mode, answers, breakdowns by type and document, failures)
- `splits`: dev / test / independent parts of a QA set, stratified fixed samples
- `beir`: `rag bench` (a BEIR dataset indexed into its own collection, every mode scored)
- `answers`: `rag bench --answers` (end-to-end answers against gold answers, the RGB rule)
- `calibrate`: the answerability model and refusal thresholds, fitted and chosen on dev
- `docs`: the docs' generated figure blocks (`python -m rag.evaluate.docs [--check]`)
- `compare`: the LangChain-tutorial and Langchain-Chatchat reference pipelines (`--compare`)
- `report`: JSON + Markdown + PNG reports and console summaries
- `extra`: the check that the `eval` extra (ranx, matplotlib, the --compare pipelines) is installed
"""

from __future__ import annotations

from rag.evaluate.beir import load_beir, run_bench
from rag.evaluate.metrics import (
    ANSWERED_TYPES,
    RetrievalScores,
    answer_correct,
    beir_scores,
    hits,
    ir_scores,
    percentile,
    score_retrieval,
)
from rag.evaluate.qa import load_qa, run_eval
from rag.evaluate.qa_answers import evaluate_answers
from rag.evaluate.retrieval import evaluate_retrieval
from rag.evaluate.splits import stratified

__all__ = [
    "ANSWERED_TYPES",
    "RetrievalScores",
    "answer_correct",
    "beir_scores",
    "evaluate_answers",
    "evaluate_retrieval",
    "hits",
    "ir_scores",
    "load_beir",
    "load_qa",
    "percentile",
    "run_bench",
    "run_eval",
    "score_retrieval",
    "stratified",
]
