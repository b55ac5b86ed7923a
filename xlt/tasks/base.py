"""What every task kind shares: encoded features, length-bucketed batches, and the kind interface.

A task kind (:class:`TaskKind`; one module per kind in :mod:`xlt.tasks`) says how examples of the
common schema become sub-word inputs and targets (``encode``, ``collate``), which head the encoder
gets (``build_model``), how the head's outputs become predictions (``predict``) and how predictions
are scored (``scores``, and ``example_stats`` / ``score_from_stats`` for re-scoring any subset of
a dev set from stored predictions). The training loop, the studies and the pool only call this
interface, so adding a kind is adding a module (and its reader in :mod:`xlt.data.readers`).

Batches group examples of similar length and pad dynamically, so little compute is spent on padding.
torch and transformers are imported where a model is touched, so scoring and tables stay light.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    import torch

    from . import TaskSpec

IGNORE = -100


@dataclass
class Features:
    """Encoded examples of one dataset (every list has one entry per encoded sequence)."""

    input_ids: list[list[int]]
    targets: list  # per-token label ids (token tasks) or one label id per sequence
    first_pos: list[list[int]]  # token tasks: positions of each word's first sub-word
    word_index: list[list[int]]  # token tasks: the word at each of those positions
    n_words: list[int]
    truncated: int = 0  # words that fell beyond max_length (predicted as the default label)
    kind: str = ""  # the task kind that encoded them (collate dispatches on it)
    extra: dict[str, list] = field(default_factory=dict)  # kind-specific per-sequence fields

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(x) for x in self.input_ids), dtype=np.int64, count=len(self))


def bucket_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None = None, pool: int = 50
) -> list[np.ndarray]:
    """Batches of similar-length examples.

    Training (``rng`` given): shuffle, sort within pools of ``pool`` batches, shuffle the batches.
    Evaluation: sort everything by length.
    """
    n = len(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]
    perm = rng.permutation(n)
    chunk = batch_size * pool
    batches = []
    for s in range(0, n, chunk):
        part = perm[s : s + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def padding_efficiency(lengths: np.ndarray, batches: Sequence[np.ndarray]) -> float:
    real = sum(int(lengths[b].sum()) for b in batches)
    padded = sum(len(b) * int(lengths[b].max()) for b in batches)
    return real / max(1, padded)


def eval_batches(feats: Features, batch_size: int, desc: str = "") -> Iterator[np.ndarray]:
    """Evaluation batches (sorted by length), with a progress bar in sentences (to the job's log:
    a long scoring pass is never silent). ``desc`` names the set, e.g. ``de/test``."""
    from tqdm import tqdm

    batches = bucket_batches(feats.lengths, batch_size)
    with tqdm(total=len(feats), desc=desc or "score", unit="sent", mininterval=10, maxinterval=60) as bar:  # fmt: skip
        for idx in batches:
            yield idx
            bar.update(len(idx))


def pad_inputs(feats: Features, idx: np.ndarray, pad_id: int) -> dict[str, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` of the sequences ``idx``, padded to the longest."""
    import torch

    width = max(len(feats.input_ids[i]) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for row, i in enumerate(idx):
        seq = feats.input_ids[i]
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def from_pretrained(auto_class: Any, spec: TaskSpec, encoder_dir: str, seed: int):
    """``auto_class.from_pretrained`` with the spec's label names (a kind without labels, QA,
    keeps the class's own head size), the head initialised from ``seed`` (Hugging Face's "newly
    initialised weights" warning is expected and silenced)."""
    import torch

    torch.manual_seed(seed)
    labels = (
        {
            "num_labels": len(spec.labels),
            "id2label": dict(enumerate(spec.labels)),
            "label2id": {lab: i for i, lab in enumerate(spec.labels)},
        }
        if spec.labels
        else {}
    )
    with quiet_transformers():
        return auto_class.from_pretrained(encoder_dir, **labels)


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence Hugging Face's loading messages (the "newly initialised weights" warning of a
    head is expected here)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)


class TaskKind:
    """One task kind. Subclasses set the class attributes and implement the methods that raise."""

    name: ClassVar[str]
    schema: ClassVar[str]  # the common-schema kind of its records (xlt.io.validate_record)
    token_level: ClassVar[bool]  # labels per word (True) or per example
    main_metric: ClassVar[str]  # the key of ``scores`` every table and selection uses
    metric_name: ClassVar[str]  # how tables name the main metric
    labelled: ClassVar[bool] = True  # has a label set (QA has none: its answers are spans)
    # other metrics of ``scores`` the zero-shot table also averages (``mean_<metric>``): the ones
    # published numbers of the kind are given in, where that is not the main metric
    also_reported: ClassVar[tuple[str, ...]] = ()
    # bf16 training and scoring measured at parity with fp32 on real runs (docs/real-data.md):
    # only then does ``finetune.precision: auto`` choose bf16 for the kind (xlt.train.precision)
    bf16_parity: ClassVar[bool] = False
    # what ``majority_baseline`` predicts, as the tables' notes say it
    baseline_name: ClassVar[str] = "the source-train majority label predicted everywhere"

    # --- records -------------------------------------------------------------------------------
    def gold(self, record: Mapping[str, Any]) -> Any:
        """The gold answer of one record, in the form ``predict`` returns predictions."""
        raise NotImplementedError

    def record_labels(self, record: Mapping[str, Any]) -> Iterable[str]:
        """The labels a record uses (a dataset without a declared label set infers them)."""
        raise NotImplementedError

    def sort_labels(self, labels: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(labels)))

    # --- model ---------------------------------------------------------------------------------
    def prepare_tokenizer(self, tokenizer) -> None:
        """Adapt the encoder's tokenizer to the kind (relation: its entity markers), in place.

        Every tokenizer that encodes this kind's examples is loaded through
        :func:`xlt.tasks.load_tokenizer`, which calls this; the default changes nothing.
        """

    def encode(self, spec: TaskSpec, tokenizer, records: Sequence[Mapping], max_length: int) -> Features:  # fmt: skip
        raise NotImplementedError

    def collate(self, feats: Features, idx: np.ndarray, pad_id: int) -> dict:
        """A training or evaluation batch of the sequences ``idx`` (``labels`` included)."""
        raise NotImplementedError

    def build_model(self, spec: TaskSpec, encoder_dir: str, seed: int):
        """The encoder with this kind's head, the head initialised deterministically from ``seed``."""
        raise NotImplementedError

    def decode(self, spec: TaskSpec, logits: np.ndarray, feats: Features, i: int) -> Any:
        """The prediction of sequence ``i`` from its row of the head's output."""
        raise NotImplementedError

    def predict(self, model, spec: TaskSpec, feats: Features, pad_id: int, batch_size: int, device, desc: str = "") -> tuple[list, np.ndarray]:  # fmt: skip
        """Predictions per example and the mean first-token final-layer vector of the set
        (``desc`` names the set on the progress bar, :func:`eval_batches`)."""
        import torch

        model.eval()
        out: list = [None] * len(feats)
        first_sum = None
        with torch.no_grad():
            for idx in eval_batches(feats, batch_size, desc):
                batch = self.collate(feats, idx, pad_id)
                batch = {k: v.to(device) for k, v in batch.items() if k != "labels"}
                res = model(**batch, output_hidden_states=True)
                first = res.hidden_states[-1][:, 0].float().sum(0).cpu().numpy()
                first_sum = first if first_sum is None else first_sum + first
                logits = res.logits.float().cpu().numpy()
                for row, i in enumerate(idx):
                    out[i] = self.decode(spec, logits[row], feats, int(i))
        model.train()
        mean = first_sum / max(1, len(feats)) if first_sum is not None else np.zeros(0)
        return out, mean.astype(np.float32)

    # --- metric --------------------------------------------------------------------------------
    def scores(self, gold: Sequence, pred: Sequence, lang: str = "") -> dict[str, float]:
        """Every metric of the kind, in percent; ``main_metric`` among them. ``lang``: the
        language of the examples, for metrics that normalise per language (QA); others ignore it."""
        raise NotImplementedError

    def example_stats(self, gold: Sequence, pred: Sequence, labels: Sequence[str] = (), lang: str = "") -> np.ndarray:  # fmt: skip
        """One row of additive statistics per example, enough to re-score any subset (``lang``
        as in :meth:`scores`)."""
        raise NotImplementedError

    def score_from_stats(self, stats: np.ndarray) -> float | np.ndarray:
        """The main score (percent) of the examples whose statistics are the rows of ``stats``
        (on the last two axes, so ``stats`` may carry leading batch axes)."""
        raise NotImplementedError

    def majority_baseline(self, train: Sequence[Mapping]) -> tuple[str, Callable[[Any], Any]] | None:  # fmt: skip
        """The trivial baseline: the source-train majority label and a function giving its
        prediction for an example whose answer is ``gold`` (``None``: the kind has none)."""
        return None
