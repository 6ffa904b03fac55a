"""The Generator interface the pipeline uses: the collection's tokenizer passed per call (no per-request copies),
and `complete()` for a follow-up the rules cannot make standalone (a generator without a model completes nothing)."""

from __future__ import annotations

from collections.abc import Iterator

from rag.factory import Components
from rag.generate.base import Draft, Generator
from rag.generate.chat import ChatGenerator
from rag.ingest import read_bytes
from rag.prompts import load_prompts
from tests.helpers import ROOT, unit_settings

DOC = "南昌市2021年工业投资同比增长18.7%，规模以上工业增加值同比增长11.4%。"
Q = "2021年南昌工业投资同比增长多少？"
HISTORY = [{"role": "user", "content": Q}, {"role": "assistant", "content": "18.7%[1]。"}]


class Recording(Generator):
    name = "fake:recording"

    def __init__(self) -> None:
        self.tokenizers: list[object] = []

    def generate(self, question, hits, tokenizer=None) -> Draft:
        self.tokenizers.append(tokenizer)
        return Draft("", [], answerable=False)


class Rewriter(ChatGenerator):
    """A chat model that makes the follow-up standalone when asked to, and answers with a cited figure."""

    name = "fake:rewriter"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.asked: list[list[dict[str, str]]] = []

    def _chat(self, messages, max_tokens) -> Iterator[str]:
        self.asked.append(messages)
        yield "2021年南昌规模以上工业增加值同比增长多少？" if len(messages) == 1 else "同比增长11.4%[1]。"


def _components(tmp_path, fake_embedder, llm: Generator) -> Components:
    s = unit_settings(tmp_path)
    comp = Components(s, embedder=fake_embedder, generators={"llm": llm})
    comp.indexer.update("default", add=read_bytes(DOC.encode(), "nc.txt"))
    return comp


def test_the_generator_reads_with_the_collections_tokenizer(tmp_path, fake_embedder) -> None:
    rec = Recording()
    comp = _components(tmp_path, fake_embedder, rec)
    comp.pipeline.ask(Q, generator="llm")
    collection_tok = comp.library.retriever("default").tokenizer
    assert len(rec.tokenizers) == 1 and rec.tokenizers[0] is collection_tok  # with the collection's mined terms
    assert comp.generator("llm") is rec  # the one instance, not a copy per request


def test_a_chat_model_makes_a_follow_up_standalone_and_others_complete_nothing(tmp_path, fake_embedder) -> None:
    from rag.zh import Tokenizer

    model = Rewriter(prompts=load_prompts(ROOT / "prompts"), tokenizer=Tokenizer())
    comp = _components(tmp_path, fake_embedder, model)
    a = comp.pipeline.ask("还有吗", history=HISTORY, generator="llm")
    assert a.query == "2021年南昌规模以上工业增加值同比增长多少？" and "rewrite" in a.timings_ms
    assert len(model.asked[0]) == 1 and "还有吗" in model.asked[0][0]["content"]
    assert "11.4%" in a.answer and a.generator == "fake:rewriter"
    assert comp.generator("extractive").complete([{"role": "user", "content": "还有吗"}]) is None
    plain = comp.pipeline.ask("还有吗", history=HISTORY, generator="extractive")
    assert plain.query == "还有吗" and "rewrite" not in plain.timings_ms


class Checked(Rewriter):
    """A chat model whose answers the pipeline has verified: the term statistics each check was given."""

    name = "fake:checked"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.statistics: list[object] = []

    def check(self, text, question, hits, tokenizer=None, bm25=None) -> Draft:
        self.statistics.append(bm25)
        return super().check(text, question, hits, tokenizer, bm25)


def test_a_chat_models_answer_is_verified_with_the_collections_term_statistics(tmp_path, fake_embedder) -> None:
    from rag.zh import Tokenizer

    model = Checked(prompts=load_prompts(ROOT / "prompts"), tokenizer=Tokenizer())
    comp = _components(tmp_path, fake_embedder, model)
    a = comp.pipeline.ask(Q, generator="llm")
    assert a.answerable and "11.4%" in a.answer
    assert model.statistics == [comp.library.retriever("default").data.bm25] and model.statistics[0] is not None


def test_how_much_is_not_answered_by_a_year_or_the_questions_own_number() -> None:
    from rag.generate.chat import states_figure

    q = "“十四五”期间南昌农村公路路面技术状况指数要达到多少？"
    assert not states_figure(q, "2021年南昌农村公路路面技术状况指数逐年上升[1]。")  # a date, no value
    assert states_figure(q, "到2025年，南昌农村公路路面技术状况指数达到90以上[1]。")
    assert not states_figure("2021年南昌5G基站有多少？", "2021年南昌5G基站建设加快[1]。")  # the question's own numbers
    assert states_figure("2021年南昌5G基站有多少？", "2021年南昌建成5G基站1.2万个[1]。")
    assert states_figure("第六届大赛是哪一年举办的？", "第六届大赛于2021年举办[1]。")  # a year when a time is asked
    assert states_figure("南昌的主导产业是什么？", "南昌的主导产业是汽车[1]。")  # no figure asked
    # a count of what is asked: its measure word (or one said of the same things, or 个)
    assert not states_figure("江西赣能电子有限公司有多少名员工？", "江西赣能电子有限公司有员工40条[1]。")
    assert states_figure("江西赣能电子有限公司有多少名员工？", "该公司有员工1200人[1]。")
    assert states_figure("江西赣能电子有限公司有多少名员工？", "该公司有员工两千名[1]。")
    assert states_figure("园区有多少家企业？", "园区有企业56个[1]。")
    # people are counted in 名 / 人 / 位, not in 个 (a number of workstations is not a number of academicians)
    assert not states_figure("开发区有多少名专家？", "开发区拥有专家工作站8个[1]。")
    assert states_figure("开发区有多少名专家？", "开发区拥有专家8位[1]。")
    # one table of measure words (rag.generate.facts.MEASURE_CLASS): 台 and 套 count equipment, 户 and 家 firms;
    # 颗 cameras are not counted in 套
    assert states_figure("该厂引进了多少台检测设备？", "该厂引进检测设备300套[1]。")
    assert states_figure("全市规模以上工业企业有多少户？", "全市规模以上工业企业达2850家[1]。")
    assert not states_figure("该项目计划每年生产多少颗摄像头？", "该项目计划每年生产3亿套摄像头[1]。")
    # a time when one is asked, a year other than the question's for "哪一年"
    assert not states_figure("西二绕城高速什么时候建成通车？", "西二绕城高速建设项目正在有序推进[1]。")
    assert states_figure("西二绕城高速什么时候建成通车？", "西二绕城高速预计2025年底建成通车[1]。")
    assert not states_figure("2021年开工的项目哪一年投产？", "该项目2021年开工[1]。")
    assert states_figure("2021年开工的项目哪一年投产？", "该项目2021年开工，2023年投产[1]。")


def test_a_checked_answer_giving_only_a_date_for_how_much_is_refused() -> None:
    from rag.types import Chunk, Hit
    from rag.zh import Tokenizer

    text = "到2021年底，南昌农村公路路面技术状况指数逐年上升。"
    hit = Hit(Chunk("d#0", "d", text, 0, len(text)), 1.0, "d.txt", "南昌农村公路")
    model = Rewriter(prompts=load_prompts(ROOT / "prompts"), tokenizer=Tokenizer())
    q = "南昌农村公路路面技术状况指数要达到多少？"
    d = model.check("2021年南昌农村公路路面技术状况指数逐年上升[1]。", q, [hit])
    assert not d.answerable and "no_figure" in d.flags
    assert model.check(
        "2021年南昌农村公路路面技术状况指数逐年上升[1]。", "南昌农村公路路面技术状况指数怎样？", [hit]
    ).answerable
