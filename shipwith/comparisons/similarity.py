"""Nearest peers by text similarity: TF-IDF cosine over name, tagline, description, tags."""

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse

WORD = re.compile(r"[a-z0-9][a-z0-9.+#-]*[a-z0-9+#]|[a-z0-9]")
STOP = frozenset(
    "a an and are as at be by can for from has have in into is it its of on or that the their "
    "this to under up use used uses using via was we when which while with you your".split()
)
CHUNK = 512


@dataclass(frozen=True)
class Doc:
    tool_id: int
    group: int  # peers are only sought within the same group (the category)
    text: str


def tokens(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOP]


def tfidf(docs: list[Doc]) -> sparse.csr_matrix:
    """Rows are L2-normalised sublinear TF-IDF vectors, one per doc."""
    vocabulary: dict[str, int] = {}
    rows, cols, values = [], [], []
    frequencies = Counter()
    counted = []
    for doc in docs:
        counts = Counter(tokens(doc.text))
        counted.append(counts)
        frequencies.update(counts.keys())
    for row, counts in enumerate(counted):
        for word, count in counts.items():
            col = vocabulary.setdefault(word, len(vocabulary))
            idf = math.log((1 + len(docs)) / (1 + frequencies[word])) + 1
            rows.append(row)
            cols.append(col)
            values.append((1 + math.log(count)) * idf)
    matrix = sparse.csr_matrix(
        (np.array(values, dtype=np.float32), (rows, cols)),
        shape=(len(docs), max(len(vocabulary), 1)),
    )
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.diags(1 / norms) @ matrix


def nearest_pairs(docs: list[Doc], peers: int) -> dict[tuple[int, int], float]:
    """For each doc, its `peers` most similar docs in the same group; pairs keyed (min, max)."""
    pairs: dict[tuple[int, int], float] = {}
    groups: dict[int, list[Doc]] = {}
    for doc in docs:
        groups.setdefault(doc.group, []).append(doc)
    for members in groups.values():
        if len(members) < 2:
            continue
        matrix = tfidf(members)
        ids = np.array([doc.tool_id for doc in members])
        k = min(peers, len(members) - 1)
        for start in range(0, len(members), CHUNK):
            block = (matrix[start : start + CHUNK] @ matrix.T).toarray()
            for offset in range(block.shape[0]):
                block[offset, start + offset] = -1  # never your own peer
            best = np.argpartition(-block, k - 1, axis=1)[:, :k]
            for offset, columns in enumerate(best):
                for column in columns:
                    score = float(block[offset, column])
                    if score <= 0:
                        continue
                    a, b = int(ids[start + offset]), int(ids[column])
                    pairs[(min(a, b), max(a, b))] = score
    return pairs
