"""Okapi BM25 over a small corpus, in pure Python: the retrieval baseline's index."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

_TOKEN = re.compile(r"[A-Za-z]+|\d+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def tokens(text: str) -> list[str]:
    """Lower-cased word pieces: identifiers split on underscores and camelCase."""
    return [word.lower() for word in _TOKEN.findall(_CAMEL.sub(" ", text))]


class BM25Index:
    """score(q, d) = sum_t idf(t) * f(t,d) (k1 + 1) / (f(t,d) + k1 (1 - b + b |d| / avgdl)).

    Every term's contribution to a document is fixed once the corpus is known, so it is computed at indexing time
    and a query only adds up posted weights.
    """

    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75, max_terms: int = 16) -> None:
        self.k1, self.b, self.max_terms = k1, b, max_terms
        self.size = len(documents)
        counted = [Counter(tokens(document)) for document in documents]
        lengths = [sum(counts.values()) for counts in counted]
        average = (sum(lengths) / self.size) if self.size else 0.0
        frequencies: dict[str, int] = defaultdict(int)
        for counts in counted:
            for term in counts:
                frequencies[term] += 1
        self.idf = {term: math.log(1 + (self.size - df + 0.5) / (df + 0.5)) for term, df in frequencies.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for number, counts in enumerate(counted):
            norm = k1 * (1 - b + b * lengths[number] / (average or 1.0))
            for term, count in counts.items():
                self.postings[term].append((number, self.idf[term] * count * (k1 + 1) / (count + norm)))

    def best(self, query: str) -> int | None:
        """The index of the best-scoring document, or None when no term matches (ties: lowest index)."""
        scores: dict[int, float] = defaultdict(float)
        known = [term for term in set(tokens(query)) if term in self.postings]
        # The rarest terms decide the match; very common ones cost time and add little.
        for term in sorted(known, key=lambda term: (-self.idf[term], term))[: self.max_terms]:
            for number, weight in self.postings[term]:
                scores[number] += weight
        if not scores:
            return None
        return max(scores, key=lambda number: (scores[number], -number))
