"""The learned lead classifier: hashed word and character n-grams, a calibrated linear model.

Why it looks like this
----------------------
The rules (``lead_rules``) fit the phrasings they were written from. The model generalises from a
labelled corpus (``data/leads/train.jsonl``, shipped in the wheel) and from the labels a workspace
gives in its inbox. It must load with no download, not depend on the pickle format of a
scikit-learn version, and score a comment in well under a millisecond. So:

* **Features are stateless**: word unigrams and bigrams plus character 3-5-grams inside word
  boundaries, each hashed (CRC-32) into ``2**BITS`` buckets, counted and L2-normalised. Nothing is
  fitted in the featuriser, so the same code serves training and scoring and no vocabulary is
  stored. Text is folded first (accents stripped, case-folded, digits made ``0``).
* **The model is plain numbers**: the non-zero weights of a logistic regression, its intercept,
  and Platt calibration ``p = 1 / (1 + exp(-(a * z + b)))`` fitted on out-of-fold decision values.
  They are stored in a ``.npz`` (no pickles: ``allow_pickle=False``) with a JSON header; scoring is
  a dictionary lookup per feature in plain Python, about 0.1 ms per comment.
* **Explanations come from the corpus**: every ``kind`` of the training items (workshop booking,
  interim role, recruiter...) keeps the strongest weights of a classifier telling the kinds of
  its class apart; the reason names the best-scoring kind of the predicted class ("similar to
  past enquiries about booking a workshop or training").

Training (``lead_training``) needs scikit-learn; scoring needs only numpy to read the file.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Final

BITS: Final = 18
MASK: Final = (1 << BITS) - 1
CHAR_NGRAMS: Final = (3, 4, 5)
FORMAT_VERSION: Final = 1
SHIPPED_FILE: Final = "lead_model.npz"

# What each corpus kind is called in a reason. Kinds a workspace's own labels carry are "inbox".
KIND_LABELS: Final[Mapping[str, str]] = {
    "interim": "interim or fractional roles",
    "workshop_booking": "booking a workshop or training",
    "proposal": "proposals and quotes",
    "exec_call": "an executive asking for a call",
    "rfp": "tenders and RFP vendor lists",
    "new_clients": "taking on new clients",
    "advisory": "paid advisory seats",
    "course": "buying a course",
    "demo": "demos and trials of a product",
    "direct_ask": "working together",
    "pricing": "prices and rates",
    "service_question": "the services offered",
    "referral": "introductions to a client",
    "inbox": "leads marked in this inbox",
    "recruiter": "recruiters offering a job",
    "vendor_pitch": "vendors pitching their own service",
    "free_advice": "requests for free advice",
    "sarcasm": "sarcasm",
    "praise": "praise",
    "disagreement": "disagreement",
    "spam": "spam",
    "job_seeker": "people looking for a job",
    "peer_question": "questions to other readers",
    "curiosity": "curiosity about past work",
    "networking": "networking",
    "general": "general comments",
    "inbox_not_lead": "comments marked 'not a lead' in this inbox",
}

_CHAR_MAP: Final = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"}
)
_WORD: Final = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_DIGITS: Final = re.compile(r"\d")


def fold(text: str) -> str:
    """Accents stripped, case-folded, typographic apostrophes made ASCII, digits made ``0``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_CHAR_MAP))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _DIGITS.sub("0", plain.casefold())


def _bucket(token: str) -> int:
    return zlib.crc32(token.encode("utf-8")) & MASK


@lru_cache(maxsize=65536)
def _word_buckets(word: str) -> tuple[int, ...]:
    """A word's unigram bucket and its character n-gram buckets (words repeat: cached)."""
    padded = " " + word + " "
    grams = [padded[start : start + n] for n in CHAR_NGRAMS for start in range(len(padded) - n + 1)]
    return (_bucket("w " + word), *(_bucket(gram) for gram in grams))


def features(text: str) -> dict[int, float]:
    """The L2-normalised hashed feature vector of ``text`` (bucket -> value)."""
    words = _WORD.findall(fold(text))
    counts: dict[int, float] = {}
    previous = "^"
    for word in (*words, "$"):
        key = _bucket("b " + previous + " " + word)
        counts[key] = counts.get(key, 0.0) + 1.0
        previous = word
    if len(words) == 0:
        return {}
    for word in words:
        for key in _word_buckets(word):
            counts[key] = counts.get(key, 0.0) + 1.0
    norm = math.sqrt(sum(v * v for v in counts.values()))
    return {k: v / norm for k, v in counts.items()}


@dataclass(frozen=True)
class ModelVerdict:
    """One comment as the model sees it: calibrated probability, its logit, nearest kind."""

    probability: float
    logit: float
    kind: str | None

    @property
    def kind_label(self) -> str:
        """The nearest kind in words, for a reason."""
        return KIND_LABELS.get(self.kind or "", self.kind or "past comments")


@dataclass(frozen=True)
class LeadModel:
    """A trained classifier: sparse weights, intercept, Platt calibration and kind centroids."""

    weights: Mapping[int, float]
    intercept: float
    platt_a: float
    platt_b: float
    lead_kinds: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
    other_kinds: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)

    def decision(self, vector: Mapping[int, float]) -> float:
        """The raw linear score of a feature vector."""
        weights = self.weights
        return self.intercept + sum(weights.get(k, 0.0) * v for k, v in vector.items())

    def calibrate(self, decision: float) -> float:
        """Platt-scaled probability of a raw score."""
        z = self.platt_a * decision + self.platt_b
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def nearest_kind(self, vector: Mapping[int, float], lead: bool) -> str | None:
        """The corpus kind (of the given class) whose kind weights score ``vector`` highest."""
        kinds, positions, matrix = self._kind_index(lead)
        if not kinds:
            return None
        import numpy as np

        # One lookup per feature instead of one per feature and kind; the rows are summed in
        # the vector's order, the same additions as ``sum(centroid.get(k, 0.0) * v ...)``.
        found = [(positions[k], v) for k, v in vector.items() if k in positions]
        if not found:
            return None
        rows = np.fromiter((pos for pos, _ in found), dtype=np.intp, count=len(found))
        values = np.fromiter((v for _, v in found), dtype=np.float64, count=len(found))
        # A reduction along axis 0 of a C-ordered array adds the rows one after the other.
        sims = np.add.reduce(matrix[rows] * values[:, None], axis=0)
        best, best_sim = None, 0.0
        for kind, sim in zip(kinds, sims.tolist(), strict=True):
            if sim > best_sim:
                best, best_sim = kind, sim
        return best

    def _kind_index(self, lead: bool) -> tuple[tuple[str, ...], dict[int, int], Any]:
        """The kinds of one class, a row per feature bucket any of them weighs, and the matrix
        of weights (rows: buckets, columns: kinds; float64), built on first use."""
        cache = self.__dict__.setdefault("_kind_index_cache", {})
        if lead not in cache:
            import numpy as np

            centroids = self.lead_kinds if lead else self.other_kinds
            kinds = tuple(centroids)
            positions: dict[int, int] = {}
            for kind in kinds:
                for k in centroids[kind]:
                    positions.setdefault(k, len(positions))
            matrix = np.zeros((len(positions), len(kinds)), dtype=np.float64)
            for column, kind in enumerate(kinds):
                for k, weight in centroids[kind].items():
                    matrix[positions[k], column] = weight
            cache[lead] = (kinds, positions, matrix)
        index: tuple[tuple[str, ...], dict[int, int], Any] = cache[lead]
        return index

    def judge(self, text: str) -> ModelVerdict:
        """Probability that ``text`` is a lead, with the nearest kind of its predicted class."""
        vector = features(text)
        probability = self.calibrate(self.decision(vector))
        clipped = min(max(probability, 1e-6), 1 - 1e-6)
        logit = math.log(clipped / (1 - clipped))
        return ModelVerdict(probability, logit, self.nearest_kind(vector, probability >= 0.5))

    def probability(self, text: str) -> float:
        """Calibrated probability that ``text`` is a lead (no explanation)."""
        return self.calibrate(self.decision(features(text)))

    @property
    def metrics(self) -> Mapping[str, Any]:
        """Measured quality recorded at training (precision, recall, n, source...)."""
        value = self.meta.get("metrics", {})
        return value if isinstance(value, Mapping) else {}

    # --- storage ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The model as ``.npz`` bytes: integer/float arrays and a JSON header, no pickles."""
        import numpy as np

        arrays: dict[str, Any] = {}
        keys = sorted(self.weights)
        arrays["w_idx"] = np.asarray(keys, dtype=np.int32)
        arrays["w_val"] = np.asarray([self.weights[k] for k in keys], dtype=np.float32)
        kinds: list[dict[str, Any]] = []
        for lead, table in ((True, self.lead_kinds), (False, self.other_kinds)):
            for kind, centroid in sorted(table.items()):
                slot = f"k{len(kinds)}"
                ckeys = sorted(centroid)
                arrays[slot + "_idx"] = np.asarray(ckeys, dtype=np.int32)
                arrays[slot + "_val"] = np.asarray([centroid[k] for k in ckeys], dtype=np.float32)
                kinds.append({"slot": slot, "kind": kind, "lead": lead})
        header = {
            "format": FORMAT_VERSION,
            "bits": BITS,
            "char_ngrams": list(CHAR_NGRAMS),
            "intercept": self.intercept,
            "platt_a": self.platt_a,
            "platt_b": self.platt_b,
            "kinds": kinds,
            "meta": dict(self.meta),
        }
        arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LeadModel:
        """Read ``to_bytes`` output; raises ValueError on a file of another format."""
        import numpy as np

        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                header = json.loads(bytes(npz["header"]).decode("utf-8"))
                if header.get("format") != FORMAT_VERSION or header.get("bits") != BITS:
                    raise ValueError("lead model of an unknown format")
                if tuple(header.get("char_ngrams", ())) != CHAR_NGRAMS:
                    raise ValueError("lead model built with other n-grams")
                weights = _sparse(npz["w_idx"], npz["w_val"])
                lead_kinds: dict[str, dict[int, float]] = {}
                other_kinds: dict[str, dict[int, float]] = {}
                for entry in header["kinds"]:
                    slot = str(entry["slot"])
                    table = lead_kinds if entry["lead"] else other_kinds
                    table[str(entry["kind"])] = _sparse(npz[slot + "_idx"], npz[slot + "_val"])
        except (OSError, EOFError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
            if isinstance(exc, ValueError) and "lead model" in str(exc):
                raise
            raise ValueError(f"unreadable lead model ({type(exc).__name__})") from exc
        return cls(
            weights=weights,
            intercept=float(header["intercept"]),
            platt_a=float(header["platt_a"]),
            platt_b=float(header["platt_b"]),
            lead_kinds=lead_kinds,
            other_kinds=other_kinds,
            meta=header.get("meta", {}),
        )


def _sparse(indices: Any, values: Any) -> dict[int, float]:
    return {int(k): float(v) for k, v in zip(indices.tolist(), values.tolist(), strict=True)}


@cache
def shipped_model() -> LeadModel:
    """The model trained on the shipped corpus, read once from the package."""
    data = resources.files("digipersona.interactions").joinpath(SHIPPED_FILE).read_bytes()
    return LeadModel.from_bytes(data)
