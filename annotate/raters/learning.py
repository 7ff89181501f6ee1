"""The built-in rater's learning, Django-free: TF-IDF over each item's text (title, body,
comments) and one linear classifier per dimension and level of the category tree,
trained on the project's settled records.

- Features: scikit-learn's TfidfVectorizer (words, English stop words removed, sublinear
  tf; Salton & Buckley 1988), fitted once on every item's text (no labels are read).
- Classifiers: SGDClassifier with the logistic loss (a linear model giving probabilities),
  one per dimension and level: the target at level L is the record's category cut to its
  first L parts (a category that stops above L is its own target).
- Decoding walks down the tree: the level-L choice is restricted to the children of the
  level-(L-1) choice (or stopping there); the confidence is the product of the chosen
  (renormalized) probabilities, the estimated probability of the whole path.
- Honest accuracy: k-fold cross-fitting grouped by item (k = FOLDS). Every settled item's
  label is the prediction of the model trained on the other folds, one that never saw it,
  so the reported accuracy and the agreement with the final labels are not measured on
  training data; unsettled items get the mean probabilities of the k fold models.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import KFold

SEPARATOR = " > "
FOLDS = 2
MIN_TRAINING_ITEMS = 6


class NotEnoughLabels(Exception):
    """Too few settled records to train (or to cross-validate) a classifier."""


@dataclass
class Prediction:
    """One dimension's choice for every item: the category path, its confidence, and the
    feature (a word or two) that weighed most for it, or ''."""

    paths: list[str]
    confidence: np.ndarray
    evidence_terms: list[str]


@dataclass
class Learned:
    """Predictions per dimension key for every item, and the cross-validated accuracy per
    dimension and level ({key: {level: {"accuracy", "n", "folds"}}})."""

    predictions: dict[str, Prediction]
    accuracy: dict[str, dict[int, dict]] = field(default_factory=dict)


def cut(path: str, level: int) -> str:
    return SEPARATOR.join(path.split(SEPARATOR)[:level])


def vectorize(texts: list[str]):
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 1),
        sublinear_tf=True,
        stop_words="english",
        min_df=2,
        max_features=200_000,
        dtype=np.float32,
        token_pattern=r"(?u)\b[A-Za-z_][A-Za-z0-9_]+\b",
    )
    matrix = vectorizer.fit_transform(texts)
    return matrix, vectorizer.get_feature_names_out()


def _classifier(seed: int) -> SGDClassifier:
    return SGDClassifier(loss="log_loss", alpha=2e-5, max_iter=5, tol=None, random_state=seed)


class _Level:
    """One level's classifier over a set of training rows."""

    def __init__(self, matrix, targets: list[str], seed: int):
        self.classes = sorted(set(targets))
        self.model = None
        if len(self.classes) > 1:
            self.model = _classifier(seed).fit(matrix, targets)
            self.classes = list(self.model.classes_)

    def proba(self, matrix, classes: list[str]) -> np.ndarray:
        """Probabilities over `classes` (a superset of this model's: others get 0)."""
        out = np.zeros((matrix.shape[0], len(classes)))
        columns = [classes.index(c) for c in self.classes]
        if not columns:
            return out
        if self.model is None:
            out[:, columns[0]] = 1.0
        else:
            out[:, columns] = self.model.predict_proba(matrix)
        return out

    def coef(self, classes: list[str]) -> np.ndarray | None:
        """The weights per class of `classes` (zero for classes this model lacks)."""
        if self.model is None:
            return None
        coef = self.model.coef_
        # A binary model keeps one row, for its second class.
        coef = np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef
        out = np.zeros((len(classes), coef.shape[1]))
        out[[classes.index(c) for c in self.classes]] = coef
        return out


def _decode(models: list[list[_Level]], matrix, classes: list[list[str]]):
    """Walk down the levels with the mean probabilities of `models` (one list of levels per
    model). Returns the chosen path per item (an object array), the path's confidence, and
    each item's class index at level 1 (whose weights give the evidence)."""
    n = matrix.shape[0]
    chosen = np.array([""] * n, dtype=object)
    confidence = np.ones(n)
    top = np.zeros(n, dtype=int)
    for depth, names in enumerate(classes, start=1):
        proba = sum(levels[depth - 1].proba(matrix, names) for levels in models) / len(models)
        labels = np.array(names, dtype=object)
        if depth > 1:
            prefixes = np.array([cut(c, depth - 1) for c in names], dtype=object)
            proba = proba * (prefixes[None, :] == chosen[:, None])
        totals = proba.sum(axis=1)
        pick = proba.argmax(axis=1)
        moved = totals > 0
        share = np.where(moved, proba[np.arange(n), pick] / np.where(moved, totals, 1.0), 1.0)
        confidence = confidence * share
        chosen = np.where(moved, labels[pick], chosen)
        if depth == 1:
            top = pick
    return chosen, confidence, top


def _top_terms(matrix, coef: np.ndarray | None, classes: np.ndarray, names) -> list[str]:
    """Per item, the feature with the largest positive weight times tf-idf toward the
    chosen class (vectorized over the sparse matrix)."""
    n = matrix.shape[0]
    if coef is None or isinstance(coef, int):
        return [""] * n
    csr = sparse.csr_matrix(matrix)
    rows = np.repeat(np.arange(n), np.diff(csr.indptr))
    contribution = csr.data * coef[classes[rows], csr.indices]
    terms = [""] * n
    if contribution.size == 0:
        return terms
    order = np.lexsort((-contribution, rows))
    first = np.unique(rows[order], return_index=True)
    for row, at in zip(first[0], first[1], strict=True):
        index = order[at]
        if contribution[index] > 0:
            terms[row] = names[csr.indices[index]]
    return terms


def learn(
    texts: list[str],
    records: list[tuple[int, dict[str, str]]],
    depths: dict[str, int],
    *,
    seed: int = 0,
    folds: int = FOLDS,
) -> Learned:
    """Train on `records` ((item index, {dimension key: category path})) over `texts` (one
    per item) and predict every dimension of `depths` ({key: tree depth}) for every item:
    a labeled item by the model of the folds that did not hold it (cross-fitting), the
    others by the mean of the fold models. Raises NotEnoughLabels below
    MIN_TRAINING_ITEMS labeled items."""
    labeled = np.array(sorted({index for index, _ in records}))
    if len(labeled) < max(MIN_TRAINING_ITEMS, folds):
        raise NotEnoughLabels(
            f"The built-in rater needs at least {max(MIN_TRAINING_ITEMS, folds)} settled "
            f"items to learn from; this project has {len(labeled)}."
        )
    matrix, names = vectorize(texts)
    fold_of = np.full(len(texts), -1)
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (_, test) in enumerate(splitter.split(labeled)):
        fold_of[labeled[test]] = fold
    rows = np.array([index for index, _ in records])
    predictions, accuracy = {}, {}
    for key, depth in depths.items():
        paths = np.array([labels.get(key, "") for _, labels in records], dtype=object)
        keep = paths != ""
        if not keep.any():
            continue
        dim_rows, dim_paths = rows[keep], paths[keep]
        targets = [
            np.array([cut(p, level) for p in dim_paths], dtype=object)
            for level in range(1, depth + 1)
        ]
        classes = [sorted(set(t)) for t in targets]
        models = []
        for fold in range(folds):
            train = fold_of[dim_rows] != fold
            models.append([_Level(matrix[dim_rows[train]], list(t[train]), seed) for t in targets])
        chosen = np.array([""] * len(texts), dtype=object)
        confidence = np.zeros(len(texts))
        terms = [""] * len(texts)
        # Each fold's items by the model that did not see them; the rest by all models.
        for fold in [*range(folds), -1]:
            at = np.flatnonzero(fold_of == fold)
            if at.size == 0:
                continue
            used = models if fold == -1 else [models[fold]]
            sub = matrix[at]
            chosen[at], confidence[at], top = _decode(used, sub, classes)
            coef = sum(levels[0].coef(classes[0]) for levels in used if levels[0].model)
            for index, term in zip(at, _top_terms(sub, coef, top, names), strict=True):
                terms[index] = term
        accuracy[key] = {}
        for level, truth in enumerate(targets, start=1):
            guess = np.array([cut(p, level) for p in chosen[dim_rows]], dtype=object)
            accuracy[key][level] = {
                "accuracy": float((guess == truth).mean()),
                "n": int(len(truth)),
                "folds": folds,
            }
        predictions[key] = Prediction(
            paths=list(chosen), confidence=confidence, evidence_terms=terms
        )
    return Learned(predictions=predictions, accuracy=accuracy)


WHITESPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern:
    words = r"\W+".join(re.escape(word) for word in term.split())
    return re.compile(r"\b" + words + r"\b", flags=re.IGNORECASE)


def quote_around(text: str, term: str, width: int = 60) -> str:
    """A verbatim passage of `text` around the first case-insensitive match of `term`'s
    words (the evidence quote of the built-in rater), or '' when there is none."""
    if not term:
        return ""
    match = _term_pattern(term).search(text)
    if match is None:
        return ""
    start = text.rfind("\n", max(0, match.start() - width), match.start()) + 1
    start = max(start, match.start() - width)
    end = text.find("\n", match.end(), match.end() + width)
    end = min(len(text), match.end() + width) if end < 0 else end
    return text[start:end].strip()
