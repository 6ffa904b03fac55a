"""Components: parts given to it are the ones used; the indexing engine is chosen from the settings."""

from __future__ import annotations

import pytest

from rag import cli
from rag.config import Settings
from rag.errors import BadInput, ConfigError
from rag.factory import Components
from rag.generate.base import Draft, Generator
from rag.ingest import read_bytes
from tests.helpers import ROOT

DOC = "南昌市2021年工业投资同比增长18.7%，规模以上工业增加值同比增长11.4%。"


class Canned(Generator):
    name = "fake:canned"

    def generate(self, question, hits, tokenizer=None) -> Draft:
        return Draft("南昌工业投资同比增长18.7%[1]。", [], answerable=False)


def _settings(tmp_path, **kw) -> Settings:
    return Settings(
        _env_file=None,
        index_dir=tmp_path / "index",
        embed_cache=tmp_path / "c.sqlite",
        prompts_dir=ROOT / "prompts",
        **kw,
    )


def test_given_parts_are_used_instead_of_built_ones(tmp_path, fake_embedder, tokenizer) -> None:
    canned = Canned()
    comp = Components(
        _settings(tmp_path, llm_refuse_below=0.0),
        embedder=fake_embedder,
        tokenizer=tokenizer,
        generators={"llm": canned},
    )
    assert comp.embedder is fake_embedder and comp.tokenizer is tokenizer
    assert comp.indexer.embedder is fake_embedder and comp.library.embedder is fake_embedder
    assert comp.generator("llm") is canned
    comp.indexer.update("default", add=read_bytes(DOC.encode(), "nc.txt"))
    assert fake_embedder.embedded > 0  # the real model was never loaded
    a = comp.pipeline.ask("2021年南昌工业投资同比增长多少？", generator="llm")
    assert a.generator == "fake:canned" and "generator_refused" in a.flags


def test_a_given_store_is_the_one_indexed_and_read(tmp_path, fake_embedder) -> None:
    from rag.store import FaissStore

    store = FaissStore(tmp_path / "elsewhere")
    comp = Components(_settings(tmp_path), embedder=fake_embedder, store=store)
    assert comp.indexer.store is store and comp.library.store is store
    comp.indexer.update("default", add=read_bytes(DOC.encode(), "nc.txt"))
    assert (tmp_path / "elsewhere" / "default").is_dir() and not (tmp_path / "index" / "default").exists()


def test_an_unknown_generator_name_fails_listing_the_valid_ones(tmp_path) -> None:
    with pytest.raises(ConfigError, match="extractive, llm, openai"):
        Components(_settings(tmp_path), generators={"gpt": Canned()})


def test_the_indexing_engine_comes_from_the_settings(tmp_path, fake_embedder) -> None:
    local = Components(_settings(tmp_path), embedder=fake_embedder)
    assert local.indexer.engine == local.indexer.embed_local
    s = _settings(tmp_path, index_engine="ray", ray_workers=3, ray_gpus_per_worker=0.5, chunk_size=200)
    ray = Components(s, embedder=fake_embedder)
    engine = ray.indexer.engine
    assert engine is ray.ray_engine and (engine.workers, engine.gpus) == (3, 0.5)
    assert engine.chunk_params == ray.chunk_params and engine.chunk_params.size == 200


def test_rag_index_engine_options_override_the_settings(tmp_path, monkeypatch) -> None:
    seen: list[Settings] = []

    def components(settings: Settings) -> Components:
        seen.append(settings)
        raise BadInput("stop here")

    monkeypatch.setattr(cli, "_components", components)
    monkeypatch.setattr(cli, "get_settings", lambda: _settings(tmp_path))
    assert cli.main(["index", str(tmp_path), "--engine", "ray", "--workers", "3"]) == 2
    assert cli.main(["index", str(tmp_path)]) == 2
    (given, default) = seen
    assert (given.index_engine, given.ray_workers, given.ray_gpus_per_worker) == ("ray", 3, 0.0)
    assert (default.index_engine, default.ray_workers) == ("local", 2)
