"""Chinese text handling: jieba tokenizer with a user dictionary, stopwords, sentence splitting, normalisation."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_SPACE = re.compile(rf"(?<=[{CJK}，。、；：！？）」』”]) +(?=[{CJK}，。、；：！？（「『“])")
_TAG = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")
# Sentence ends: 。！？；… and their ASCII forms when followed by CJK; closing quotes/brackets stay with the sentence.
_SENT_END = re.compile(r"(?:[。！？!?；;]|…{1,2}|\.{3,6})[”’」』）)\]】]*|\n+")
_CLAUSE_END = re.compile(r"[，,、：:][”’」』）)]*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:\s*[%％‰])?")
_PUNCT_TOKEN = re.compile(rf"^[^\w{CJK}]+$")


def norm(s: str) -> str:
    """API.md's norm(): NFKC, strip HTML tags, drop all whitespace, lowercase."""
    return _norm_cached(s) if len(s) <= NORM_CACHE_CHARS else _norm(s)


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    s = _TAG.sub("", s)
    s = _WS.sub("", s)
    return s.lower()


# An answer normalises the same short strings (question terms, sentences, headings, a hit's title and text) once per
# candidate, per term and per stage: ~900 calls a question, most of them repeats. norm() is a pure function of its
# text, so the short ones are looked up (texts past NORM_CACHE_CHARS are not kept: bounded memory, ~30 MB at worst).
NORM_CACHE_CHARS = 512
_norm_cached = lru_cache(maxsize=8192)(_norm)


def join_cjk_spaces(text: str) -> str:
    """Remove layout spaces between Chinese characters ("基 地" -> "基地")."""
    return _CJK_SPACE.sub("", text)


def is_cjk(ch: str) -> bool:
    return bool(re.match(rf"[{CJK}]", ch))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split text[start:end] into sentence spans; whitespace between sentences is left out of the spans."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _SENT_END.finditer(text, start, end):
        stop = m.end() if not m.group().startswith("\n") else m.start()
        _add_span(text, pos, stop, spans)
        pos = m.end()
    _add_span(text, pos, end, spans)
    return spans


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split one sentence span further at commas and enumeration marks."""
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _CLAUSE_END.finditer(text, start, end):
        _add_span(text, pos, m.end(), spans)
        pos = m.end()
    _add_span(text, pos, end, spans)
    return spans


def _add_span(text: str, a: int, b: int, out: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        out.append((a, b))


def numbers(text: str) -> set[str]:
    """Numbers (with %), normalised: '11.4%', '2021', '6227.3'."""
    if len(text) <= NORM_CACHE_CHARS:  # the same sentences are read per candidate and per stage (see norm)
        return set(_numbers_cached(text))
    return set(_numbers(text))


def _numbers(text: str) -> frozenset[str]:
    return frozenset(n for _, _, n in number_spans(unicodedata.normalize("NFKC", text)))


_numbers_cached = lru_cache(maxsize=8192)(_numbers)


def number_spans(text: str) -> list[tuple[int, int, str]]:
    """The numbers of `text` as numbers() gives them ('11.4%', '6227.3'), each with its (start, end) in `text`, in
    order. `text` is read as it is: NFKC-normalise it first for full-width digits."""
    return [(m.start(), m.end(), m.group().replace(" ", "").replace(",", "")) for m in _NUMBER.finditer(text)]


def data_file(name: str) -> Path:
    return Path(str(resources.files("rag") / "data" / name))


@lru_cache
def load_stopwords(path: str | None = None) -> frozenset[str]:
    p = Path(path) if path else data_file("stopwords_zh.txt")
    words = {w.strip() for w in p.read_text(encoding="utf-8").splitlines()}
    return frozenset(w for w in words if w and not w.startswith("#"))


QUERY_CACHE_CHARS = 300  # texts up to this long (questions: RAG_MAX_QUERY_CHARS, 150) have their tokens cached
# Words of a question's scaffolding that the stopwords (kept for passages too) do not hold: question words, a
# demonstrative with its measure word, and the colloquial frame of a question about an office's head ("管教育的那个
# 局，一把手是谁"). They name what is asked, not what a passage says, so BM25 leaves them out of a question's terms
# (Tokenizer.query_terms); in a passage they stay searchable.
QUESTION_SCAFFOLD = frozenset(
    "谁 是谁 啥 叫啥 叫 哪位 哪儿 哪家 哪一 哪类 哪种 哪项 哪年 第几 多大 多久 什么样 姓甚名谁 "
    "那边 这边 那张 那位 那家 这家 这位 一块 这块 管 一把手".split()
)
SUBWORD_SIZES = (2, 3)  # the lengths of the dictionary words a passage's longer words are also indexed by
_ALL_HAN = re.compile(rf"^[{CJK}]+$")
ENTITY_TAGS = frozenset({"ns", "nr", "nt", "nz", "nrt", "nrfg"})  # jieba: places, people, organisations, other names


class Tokenizer:
    """jieba (precise mode) with a user dictionary, optionally a collection's own terms (rag.termdict), and
    stopwords; thread-safe, loaded once."""

    def __init__(
        self,
        user_dict: str | Path | None = None,
        stopwords: str | Path | None = None,
        terms: Iterable[tuple[str, int, str]] = (),
    ):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._user_dict = Path(user_dict) if user_dict else data_file("userdict.txt")
        self._stopwords = stopwords
        self._stop = load_stopwords(str(stopwords) if stopwords else None)
        self._terms = [tuple(t) for t in terms]
        self._children: dict[str, Tokenizer] = {}
        self._ready = False
        self._tag_cached = lru_cache(maxsize=1024)(self._tag)  # a question is tagged by several stages of one answer
        self._tag_block = lru_cache(maxsize=4096)(self._tag_block_uncached)  # titles and headings recur per passage
        self._tokens_cached = lru_cache(maxsize=1024)(lambda text: tuple(self._tokens(text)))
        self.subwords = lru_cache(maxsize=65536)(self._subwords)
        self._abbrevs: dict[str, tuple[str, ...]] | None = None

    def with_terms(self, terms: Iterable[tuple[str, int, str]]) -> Tokenizer:
        """A tokenizer with the same dictionary and stopwords plus a collection's terms ((word, freq, tag) each);
        the same terms give the same (already loaded) tokenizer."""
        terms = [tuple(t) for t in terms]
        if not terms:
            return self
        key = "\n".join(f"{w} {f} {t}" for w, f, t in terms)
        with self._lock:
            tok = self._children.get(key)
        if tok is None:
            tok = Tokenizer(self._user_dict, self._stopwords, terms)
            with self._lock:
                if len(self._children) >= 4:  # a few collections' dictionaries; older ones are dropped
                    self._children.pop(next(iter(self._children)))
                tok = self._children.setdefault(key, tok)
        return tok

    @property
    def n_terms(self) -> int:
        return len(self._terms)

    def _init(self) -> None:
        with self._lock:
            if not self._ready:
                import jieba.posseg

                freq, total, tags = _base_tables(self._jieba)
                if freq is None:
                    self._jieba.initialize()
                else:  # jieba's own dictionary is read once per process; each tokenizer gets a copy to add to
                    self._jieba.FREQ, self._jieba.total, self._jieba.initialized = dict(freq), total, True
                self._jieba.load_userdict(str(self._user_dict))
                for word, freq_, tag in self._terms:
                    self._jieba.add_word(word, freq_, tag)
                # one part-of-speech tokenizer, made after the dictionaries so it knows their words and tags
                if tags is None:
                    self._pos = jieba.posseg.POSTokenizer(self._jieba)
                else:  # the tag table jieba.posseg read from the same dictionary file when it was imported
                    self._pos = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
                    self._pos.tokenizer, self._pos.word_tag_tab = self._jieba, dict(tags)
                self._ready = True

    def base_words(self, text: str) -> list[str]:
        """The dictionary's segmentation of a short text, without guessing new words (HMM off)."""
        if not self._ready:
            self._init()
        return [w for w in self._jieba.lcut(text, HMM=False) if w.strip()]

    def known(self, word: str) -> bool:
        """Whether the dictionary holds the word."""
        if not self._ready:
            self._init()
        return bool(self._jieba.FREQ.get(word))

    def pos(self, word: str) -> str:
        """The dictionary's part-of-speech tag of a word ("" when it has none)."""
        if not self._ready:
            self._init()
        return self._pos.word_tag_tab.get(word, "")

    def is_stopword(self, word: str) -> bool:
        return word in self._stop

    def freq_to_keep(self, word: str) -> int:
        """The frequency jieba needs to keep the word whole rather than cut it into its dictionary pieces."""
        if not self._ready:
            self._init()
        with self._lock:
            return int(self._jieba.suggest_freq(word, tune=False))

    def words(self, text: str) -> list[str]:
        """All jieba words of the text, punctuation and spaces dropped, stopwords kept."""
        if not self._ready:
            self._init()
        t = join_cjk_spaces(unicodedata.normalize("NFKC", text)).lower()
        return [w for w in (x.strip() for x in self._jieba.lcut(t, HMM=True)) if w and not _PUNCT_TOKEN.match(w)]

    def tokens(self, text: str) -> list[str]:
        """Index/query terms for BM25: words minus stopwords. A question's are found once: retrieval, the judge's
        own search and the keywords of the judge and the generators all read them (a short text's are cached)."""
        if len(text) <= QUERY_CACHE_CHARS:
            return list(self._tokens_cached(text))
        return self._tokens(text)

    def _tokens(self, text: str) -> list[str]:
        return [w for w in self.words(text) if w not in self._stop]

    def query_terms(self, text: str) -> list[str]:
        """A question's BM25 terms: its tokens without QUESTION_SCAFFOLD (all of them when nothing else is left)."""
        toks = self.tokens(text)
        return [w for w in toks if w not in QUESTION_SCAFFOLD] or toks

    def index_tokens(self, text: str) -> list[str]:
        """A passage's BM25 terms: its tokens, each longer Chinese word followed by the dictionary words inside it
        (jieba's search mode). A question names a thing by a part of the word a document uses ("进贤" for 进贤县,
        "教育" for 市教育局, "局长" where jieba cut 局局长), and the part matches only if the passage holds it as a
        term too. Questions keep their plain tokens: the parts of their own words would count a word twice."""
        return [x for w in self.tokens(text) for x in (w, *self.subwords(w))]

    def _subwords(self, word: str) -> tuple[str, ...]:
        """The dictionary's two- and three-character words inside a Chinese word of three or more characters
        (three-character ones inside words of four or more), stopwords left out, in order."""
        if len(word) < 3 or not _ALL_HAN.match(word):
            return ()
        if not self._ready:
            self._init()
        freq = self._jieba.FREQ
        out: list[str] = []
        for n in SUBWORD_SIZES:
            if n < len(word):
                out.extend(
                    g
                    for g in (word[i : i + n] for i in range(len(word) - n + 1))
                    if freq.get(g) and g not in self._stop
                )
        return tuple(out)

    def warm(self) -> None:
        """Load what the first question would otherwise wait for: jieba's dictionaries and tagger (about 1-2 s) and
        the abbreviation table (full_forms)."""
        self.full_forms("营收")

    def full_forms(self, word: str) -> tuple[str, ...]:
        """The dictionary's four-character words that a two-character word abbreviates by the first characters of
        their two parts, as Chinese shortens terms (营收: 营业收入; 国企: 国有企业; 邮编: 邮政编码)."""
        if len(word) != 2:
            return ()
        if self._abbrevs is None:
            if not self._ready:
                self._init()
            with self._lock:
                if self._abbrevs is None:
                    self._abbrevs = _abbreviations(self._jieba.FREQ)
        return self._abbrevs.get(word, ())

    def held_full_forms(self, terms: Iterable[str], idf: Callable[[str], float]) -> dict[str, tuple[str, ...]]:
        """The terms no passage holds (`idf` 0) that abbreviate words passages do hold, each with those words
        (营收: 营业收入): what BM25 searches for them and what the extractive answer matches them by."""
        out = {}
        for t in terms:
            if len(t) == 2 and not idf(t):
                forms = tuple(f for f in self.full_forms(t) if idf(f))
                if forms:
                    out[t] = forms
        return out

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """(word, part-of-speech tag) pairs by jieba's tagger, spaces dropped.

        The tagger's HMM (which names unknown words) costs the product of the candidate states of neighbouring
        characters: a few µs per common character, ~10 ms per character it has never seen. It reads the text up to
        TAG_BUDGET of that work; the rest is tagged from the dictionary alone. Every question of the QA set is far
        inside the budget; 2,000 rare characters cost ~60 ms instead of ~13 s, and hold the GIL that long.
        """
        return list(self._tag_cached(text))

    def _tag(self, text: str) -> tuple[tuple[str, str], ...]:
        if not self._ready:
            self._init()
        t = join_cjk_spaces(unicodedata.normalize("NFKC", text)).lower()
        cut = _hmm_prefix(t)
        with self._lock:
            words = self._pos.lcut(t[:cut]) + (self._pos.lcut(t[cut:], HMM=False) if cut < len(t) else [])
        return tuple((w.word.strip(), w.flag) for w in words if w.word.strip())

    def tagged_blocks(self, text: str, chars: frozenset[str]) -> list[tuple[str, str]]:
        """What tagged(text) gives for the words of the blocks that hold one of `chars`, the other blocks skipped.

        jieba's tagger cuts the text into blocks (runs of Han characters, latin letters and digits) and tags each on
        its own, so a block's words do not depend on the rest of the text: a caller that wants only words holding one
        of a few characters (place names by their suffix) skips most of the work. Blocks are cached, so a title or
        heading repeated in every passage of a document is tagged once. Where text other than spaces was skipped
        between two blocks, a ("", "x") pair stands for it, so that words of blocks apart are never read as
        neighbours (a place and a park word after it: rag.generate.subject.with_parks)."""
        from jieba.posseg import re_han_internal

        if not self._ready:
            self._init()
        t = join_cjk_spaces(unicodedata.normalize("NFKC", text)).lower()
        cut = _hmm_prefix(t)
        out: list[tuple[str, str]] = []
        end = None  # where the last block kept ends in t
        for offset, part, hmm in ((0, t[:cut], True), (cut, t[cut:], False)):
            for m in re_han_internal.finditer(part):
                block = m.group()
                if not chars.isdisjoint(block):
                    if end is not None and t[end : offset + m.start()].strip():
                        out.append(("", "x"))
                    out.extend(self._tag_block(block, hmm))
                    end = offset + m.end()
        return out

    def _tag_block_uncached(self, block: str, hmm: bool) -> tuple[tuple[str, str], ...]:
        with self._lock:
            words = self._pos.lcut(block, HMM=hmm)
        return tuple((w.word.strip(), w.flag) for w in words if w.word.strip())

    def entities(self, text: str) -> set[str]:
        """Proper nouns of the text (places, people, organisations, other names) by jieba's part-of-speech tags."""
        return {w for w, flag in self.tagged(text) if flag in ENTITY_TAGS and len(w) >= 2}

    def keywords(self, text: str) -> list[str]:
        """Content terms of a question: tokens of two or more characters, numbers, and latin words."""
        out: list[str] = []
        for w in self.tokens(text):
            if len(w) >= 2 or w.isdigit() or w.isascii():
                if w not in out:
                    out.append(w)
        return out


_base_lock = threading.Lock()


def _base_tables(tok) -> tuple[dict | None, int, dict | None]:
    """jieba's default dictionary as loaded in this process (word frequencies, their total) and the part-of-speech
    tags jieba.posseg read from it, for a tokenizer on that same dictionary; (None, 0, None) for another dictionary.
    Loading them costs ~1-2 s per tokenizer, and an index build makes two (the collection's terms are added to a
    second one)."""
    import jieba
    import jieba.posseg

    if tok.dictionary != jieba.dt.dictionary:
        return None, 0, None
    with _base_lock:
        if not jieba.dt.initialized:
            jieba.dt.initialize()
    return jieba.dt.FREQ, jieba.dt.total, jieba.posseg.dt.word_tag_tab


def _abbreviations(freq: dict[str, int]) -> dict[str, tuple[str, ...]]:
    """Two-character abbreviation -> the four-character dictionary words of two two-character dictionary words it
    shortens (~36,000 keys from jieba's dictionary; built once per tokenizer, ~0.3 s)."""
    out: dict[str, list[str]] = {}
    for w, f in freq.items():
        if f and len(w) == 4 and _ALL_HAN.match(w) and freq.get(w[:2]) and freq.get(w[2:]):
            out.setdefault(w[0] + w[2], []).append(w)
    return {k: tuple(v) for k, v in out.items()}


TAG_BUDGET = (
    120_000  # state pairs of the Viterbi: ~60 ms on this project's CPUs (the QA set's questions: at most 46,000)
)
_HAN_DETAIL = re.compile(r"[\u4E00-\u9FD5]")  # the characters jieba's tagger runs its HMM over


def _hmm_prefix(text: str) -> int:
    """How much of `text` the part-of-speech HMM may read within TAG_BUDGET, cut at a non-Han character if one is
    near."""
    from jieba.posseg import char_state_tab_P

    cost, prev = 0, 0
    for i, ch in enumerate(text):
        if not "\u4e00" <= ch <= "\u9fd5":  # _HAN_DETAIL, compared directly: this loop reads every passage
            prev = 0
            continue
        n = len(char_state_tab_P.get(ch, ())) or 256  # an unknown character may be in any of the 256 states
        cost += n * (prev or 1)
        prev = n
        if cost > TAG_BUDGET:
            back = max((j for j in range(max(i - 20, 0), i) if not _HAN_DETAIL.match(text[j])), default=i)
            return back
    return len(text)


@lru_cache
def default_tokenizer() -> Tokenizer:
    return Tokenizer()
