from __future__ import annotations

from rag.zh import join_cjk_spaces, norm, number_spans, numbers, sentence_spans


def test_norm_matches_api_definition() -> None:
    assert norm("<p>Ａ Ｂ\t增长 11.4％</p>") == "ab增长11.4%"


def test_sentence_spans_split_on_chinese_ends_and_keep_quotes() -> None:
    text = "他说：“好。”然后走了！对吗？是的；\n新的一行"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["他说：“好。”", "然后走了！", "对吗？", "是的；", "新的一行"]


def test_join_cjk_spaces_only_between_chinese() -> None:
    assert join_cjk_spaces("华勤千亿产业基 地项目 SMT 生产线") == "华勤千亿产业基地项目 SMT 生产线"


def test_numbers() -> None:
    assert numbers("增长11.4%，共6,227.3亿元，2021年") == {"11.4%", "6227.3", "2021"}


def test_number_spans_give_each_number_as_numbers_does_with_its_place() -> None:
    text = "收入超过10亿元的企业增长11.4%，共1,234家"
    spans = number_spans(text)
    assert [n for _, _, n in spans] == ["10", "11.4%", "1234"]
    assert [text[s:e] for s, e, _ in spans] == ["10", "11.4%", "1,234"]
    assert {n for _, _, n in spans} == numbers(text)


def test_tokenizer_uses_user_dict_and_drops_stopwords(tokenizer) -> None:
    toks = tokenizer.tokens("南昌的规模以上工业增加值是多少？")
    assert "规模以上工业增加值" in toks
    assert "的" not in toks and "多少" not in toks


def test_index_tokens_add_the_dictionary_words_inside_longer_words(tokenizer) -> None:
    toks = tokenizer.index_tokens("医疗器械产业是进贤县首位产业，市教育局局长谢为民")
    assert toks[: toks.index("产业")] == ["医疗器械", "医疗", "器械"]
    assert "进贤县" in toks and "进贤" in toks
    assert "教育局" in toks and "教育" in toks
    # each word of the plain tokens is there, in order, with its parts after it
    assert [t for t in toks if t in tokenizer.tokens("医疗器械产业是进贤县首位产业，市教育局局长谢为民")] == (
        tokenizer.tokens("医疗器械产业是进贤县首位产业，市教育局局长谢为民")
    )


def test_subwords_only_of_longer_chinese_words_and_never_stopwords(tokenizer) -> None:
    assert tokenizer.subwords("产业") == ()
    assert tokenizer.subwords("abcdef") == ()
    assert tokenizer.subwords("规模以上工业增加值")[:2] == ("规模", "以上")
    assert tokenizer.subwords("我们的工作") == ("工作",)  # 我们 is a stopword


def test_bm25_over_index_tokens_finds_a_passage_by_a_part_of_its_word(tokenizer) -> None:
    """ "进贤" asks for the passage that says 进贤县: with the plain tokens the question matches nothing of it."""
    from rag.indexer import passage_tokens
    from rag.lexical import BM25Index

    passages = [
        "医疗器械产业是进贤县的首位产业，全县已集聚医疗器械企业一百余家。",
        "宁都县的首位产业是轻纺服装。",
        "新余高新区的锂电产业发展迅速。",
    ]
    query = tokenizer.tokens("进贤的首位产业是什么？")
    assert "进贤" in query
    plain = BM25Index.build([tokenizer.tokens(p) for p in passages]).scores(query)
    assert plain.argmax() == 1  # only 首位/产业 match, and the shorter passage wins
    scores = BM25Index.build([passage_tokens(p, tokenizer) for p in passages]).scores(query)
    assert scores.argmax() == 0


def test_query_terms_leave_out_the_question_scaffolding(tokenizer) -> None:
    q = "南昌管教育的那个局，一把手是谁？"
    assert {"管", "一把手", "谁"} <= set(tokenizer.tokens(q))
    assert tokenizer.query_terms(q) == ["南昌", "教育", "局"]
    assert tokenizer.query_terms("是谁？") == tokenizer.tokens("是谁？")  # nothing else left: kept as they are
    # a passage keeps them searchable
    assert "一把手" in tokenizer.index_tokens("落实“一把手”负责制")


def test_bm25_question_terms_rank_the_office_head_first(tokenizer) -> None:
    """ "一把手是谁" is not what the passage says: with the scaffolding a passage that says 一把手 and 谁 wins."""
    from rag.indexer import passage_tokens
    from rag.lexical import BM25Index

    passages = ["谢为民 市教育局局长", "“一把手”要管全局，谁来抓教育？", "市交通运输局局长熊保良"]
    index = BM25Index.build([passage_tokens(p, tokenizer) for p in passages])
    q = "南昌管教育的那个局，一把手是谁？"
    assert index.scores(tokenizer.tokens(q)).argmax() == 1
    assert index.scores(tokenizer.query_terms(q)).argmax() == 0


def test_full_forms_are_the_dictionary_words_an_abbreviation_shortens(tokenizer) -> None:
    assert "营业收入" in tokenizer.full_forms("营收")
    assert "国有企业" in tokenizer.full_forms("国企")
    assert "邮政编码" in tokenizer.full_forms("邮编")
    assert tokenizer.full_forms("营业收入") == ()  # only two-character words abbreviate
    assert all(len(f) == 4 and f[0] + f[2] == "营收" for f in tokenizer.full_forms("营收"))


def test_bm25_finds_an_abbreviated_term_by_its_full_form(tokenizer) -> None:
    """ "营收" is in no passage: the retriever also searches the passages' 营业收入 it shortens."""
    from rag.indexer import passage_tokens
    from rag.lexical import BM25Index
    from rag.retrieve import FusionParams, Retriever
    from rag.types import Chunk

    passages = ["洪都航空营业收入首次突破100亿元。", "洪都集团在南昌召开年度工作会议。"]
    searched: list[list[str]] = []

    class Data:
        bm25 = BM25Index.build([passage_tokens(p, tokenizer) for p in passages])
        chunks = passages
        documents: dict = {}

        def lexical(self, tokens, k):
            searched.append(list(tokens))
            s = self.bm25.scores(tokens)
            return sorted(((i, float(x)) for i, x in enumerate(s) if x > 0), key=lambda x: -x[1])[:k]

        def chunk(self, i):
            return Chunk(str(i), "d", passages[i], 0, len(passages[i]))

    r = Retriever(Data(), None, tokenizer, FusionParams())
    q = tokenizer.query_terms("洪都航空的营收是多少？")
    assert "营收" in q and Data.bm25.idf("营收") == 0
    assert tokenizer.held_full_forms(q, Data.bm25.idf) == {"营收": ("营业收入",)}
    assert tokenizer.held_full_forms(["营业收入", "洪都"], Data.bm25.idf) == {}  # terms passages hold stay as they are
    r.search("洪都航空的营收是多少？", 2, "bm25")
    assert ["营业收入"] in searched  # BM25 searched the full form beside the question's terms
