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
