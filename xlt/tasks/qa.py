"""Extractive question answering (``kind: qa``): the standard BERT reader, exact match and token F1
as the official scripts compute them, per-question statistics for re-scoring subsets, and the
decoding of answer spans from logits.

**Model** (Devlin et al. 2019, as Hugging Face's ``run_qa.py``): ``[CLS] question [SEP] passage
[SEP]`` (XLM-R: ``<s> question </s></s> passage </s>``) into ``AutoModelForQuestionAnswering``, whose
linear head gives a start and an end logit per token. A passage longer than a window is split into
windows of at most ``max_length`` tokens that share ``doc_stride`` tokens (:class:`TaskSpec`; by
default a third of ``max_length``: BERT's 128 at 384); a question longer than a third of
``max_length`` tokens is cut there (counted as ``truncated``). Training: each window's target is the
first gold answer's first and last token, or [CLS] (position 0) when the answer is not wholly inside
the window. Prediction: :func:`best_spans` over all windows of a question (the 20 best start × end
logits per window, spans of at most ``max_answer_length`` tokens (30), scored by start + end logit),
mapped back to characters of the passage through the tokenizer's offsets, so the answer is a
substring of the context. Needs a fast tokenizer (character offsets).

Scoring (``qa_scores``) follows the official scripts exactly where they apply:

- **English**: the official SQuAD v1.1 evaluation script (``evaluate-v1.1.py``): lower-case,
  remove ASCII punctuation (``string.punctuation``), remove the articles a/an/the, collapse
  whitespace; tokens = whitespace split.
- **es, de, ar, hi, vi, zh**: the official MLQA script (``mlqa_evaluation_v1.py``,
  facebookresearch/MLQA): lower-case; remove every character whose Unicode category is P* and
  every ASCII punctuation character; remove the language's "articles" as whole words (es: un una
  unos unas el la los las; de: ein eine einen einem eines einer der die das den dem des; vi: của
  là cái chiếc những; hi, zh: none) and, for ar, *every* occurrence of "ال", also inside words (the
  script's pattern ``\\sال^|ال``: the first alternative can never match); tokens = whitespace split,
  except zh: every character in U+4E00–U+9FA5 is a token of its own and the runs between them are
  whitespace-split (the script's "mixed segmentation"; its range, not all of CJK: U+9FA6–U+9FFF
  stay in runs).
- ``script="mlqa"`` with ``lang="en"`` gives MLQA's English rule instead (SQuAD's plus Unicode
  punctuation: “ ” – — ‘ ’ etc. are removed too), which is what the MLQA script reports for MLQA's
  English dev/test. ``script="squad"`` applies SQuAD v1.1's rule to any language, which is how
  XTREME scores XQuAD and TyDi QA-GoldP.

Languages the MLQA script does not know (it raises for them) get MLQA's rule without articles:
Unicode + ASCII punctuation removed, whitespace tokens (TyDi's bn, fi, id, ko, ru, sw, te;
XQuAD's el, ro, ru, tr; any other code). No article lists are invented: those languages either have
none (ru, fi, ko, …) or their articles are clitics/affixes that whitespace tokens cannot separate.
**th** is written without spaces between words, so whitespace tokens would make F1 equal to EM on
whole phrases; like MLQA's zh rule, every Thai character (U+0E00–U+0E7F) is a token of its own and
other runs are whitespace-split. This character F1 counts Thai vowel and tone marks as characters
(no word segmenter is assumed: its output would depend on the segmenter and its version).

As in both official scripts, a question missing from the predictions scores 0; predictions for ids
that are not in the references are ignored; the references drive the loop; per question, EM and F1
are the maxima over the gold answers; an answer and a gold answer that both normalise to the empty
string have EM 1 and F1 0. Scores are percentages.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from .base import Features, TaskKind, eval_batches, from_pretrained, pad_inputs

Script = Literal["auto", "squad", "mlqa"]

_ASCII_PUNCT = frozenset(string.punctuation)
_LANG_CODE = re.compile(r"[a-z]{2,3}")

# removed (replaced by a space) after lower-casing and punctuation removal, as in MLQA's script
_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "ar": re.compile("ال"),
}

# scripts without spaces between words: each character of the range is a token of its own
_CHAR_TOKENS = {
    "zh": re.compile("([\u4e00-\u9fa5])"),  # MLQA's mixed segmentation, its range exactly
    "th": re.compile("([\u0e00-\u0e7f])"),  # xlt's extension (see the module docstring)
}


def _is_unicode_punct(ch: str) -> bool:
    """MLQA's ``PUNCT``: Unicode category P* or ASCII punctuation (``$``, ``+``, … are S*)."""
    return ch in _ASCII_PUNCT or unicodedata.category(ch).startswith("P")


def _rule(lang: str, script: Script) -> Literal["squad", "mlqa"]:
    """Which official script's normalisation applies to ``lang`` under ``script``."""
    if not _LANG_CODE.fullmatch(lang):
        raise ValueError(f"language {lang!r}: expected a lower-case ISO 639 code such as 'en'")
    if script == "auto":
        return "squad" if lang == "en" else "mlqa"
    if script not in ("squad", "mlqa"):
        raise ValueError(f"unknown QA scoring script {script!r}; expected auto, squad or mlqa")
    return script


def normalize_answer(text: str, lang: str, script: Script = "auto") -> str:
    """The answer as the official script compares it: tokens joined by single spaces.

    ``script="auto"``: SQuAD v1.1 for ``en``, MLQA (with xlt's extension to other languages, see
    the module docstring) for every other language.
    """
    text = text.lower()
    if _rule(lang, script) == "squad":
        text = "".join(ch for ch in text if ch not in _ASCII_PUNCT)
        return " ".join(_ARTICLES["en"].sub(" ", text).split())
    text = "".join(ch for ch in text if not _is_unicode_punct(ch))
    if lang in _ARTICLES:
        text = _ARTICLES[lang].sub(" ", text)
    if lang in _CHAR_TOKENS:
        text = _CHAR_TOKENS[lang].sub(r" \1 ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str, lang: str, script: Script = "auto") -> float:
    """1.0 when the normalised answers are equal, else 0.0."""
    return float(normalize_answer(prediction, lang, script) == normalize_answer(gold, lang, script))


def token_f1(prediction: str, gold: str, lang: str, script: Script = "auto") -> float:
    """Bag-of-tokens F1 (0..1) between the normalised answers; 0 when no token is shared."""
    return _f1(
        normalize_answer(prediction, lang, script).split(),
        normalize_answer(gold, lang, script).split(),
    )


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    """The official scripts' ``f1_score`` on already normalised tokens."""
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def qa_example_stats(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    lang: str,
    ids: Sequence[str] | None = None,
    script: Script = "auto",
) -> np.ndarray:
    """Per question (rows in the order of ``ids``, default: the references' order): EM and F1 as
    floats in [0, 1], each the maximum over the question's gold answers; 0 for a question without
    a prediction. The score of any subset is the mean of its rows (``qa_score_from_stats``).
    """
    ids = list(references) if ids is None else list(ids)
    rows = np.zeros((len(ids), 2), dtype=np.float64)
    for i, qid in enumerate(ids):
        if qid not in references:
            raise ValueError(f"question {qid!r} is not in the references")
        golds = references[qid]
        if isinstance(golds, str):
            raise TypeError(
                f"question {qid!r}: references map an id to a list of gold answers, got a string"
            )
        if not golds:
            raise ValueError(f"question {qid!r} has no gold answer; EM/F1 are undefined for it")
        if qid not in predictions:
            continue
        pred = normalize_answer(predictions[qid], lang, script)
        normed = [normalize_answer(g, lang, script) for g in golds]
        rows[i, 0] = max(float(pred == g) for g in normed)
        rows[i, 1] = max(_f1(pred.split(), g.split()) for g in normed)
    return rows


def qa_scores(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    lang: str,
    script: Script = "auto",
) -> dict[str, float]:
    """Exact match and token F1 in percent over the questions of ``references``.

    ``predictions``: question id → answer text; ``references``: question id → gold answer texts.
    Summed question by question in the references' order, as the official scripts do, so the
    numbers are theirs to the last bit.
    """
    stats = qa_example_stats(predictions, references, lang, script=script)
    total = max(1, len(stats))
    return {
        "exact_match": 100.0 * sum(stats[:, 0].tolist()) / total,
        "f1": 100.0 * sum(stats[:, 1].tolist()) / total,
    }


def qa_score_from_stats(stats: np.ndarray) -> float | np.ndarray:
    """The main QA score, F1 in percent, of the questions whose ``qa_example_stats`` rows are given.

    Works on the last two axes, so ``stats`` may carry leading batch axes (…, n, 2); 0 for n = 0.
    """
    n = stats.shape[-2]
    return 100 * stats[..., 1].sum(axis=-1) / max(1, n)


# --------------------------------------------------------------------------------------------
# span decoding


def best_spans(
    start_logits: Sequence[np.ndarray],
    end_logits: Sequence[np.ndarray],
    offsets: Sequence[Sequence[tuple[int, int] | None]],
    max_answer_length: int,
    n_best: int = 20,
) -> list[tuple[int, int, float]]:
    """The n best answer spans of one example over all its windows: ``(char_start, char_end,
    score)`` into the context, best first (``context[start:end]`` is the answer text).

    Per window: start and end logits over its tokens, and each token's character offsets into the
    context, ``None`` for question, special and padding tokens. As Hugging Face's
    ``postprocess_qa_predictions`` (and BERT's ``run_squad``): the ``n_best`` highest start logits
    × the ``n_best`` highest end logits of each window are candidates; a candidate is dropped when
    its start or end token is not a context token, when it ends before it starts, or when it is
    longer than ``max_answer_length`` tokens; score = start logit + end logit. The candidates of all
    windows are ranked together; a character span found in several (overlapping) windows is
    kept once, with its best score. Ties rank the earlier window, start and end first (HF's order
    under ties depends on numpy's unstable argsort). Empty list: no valid span.
    """
    if not len(start_logits) == len(end_logits) == len(offsets):
        raise ValueError(
            f"{len(start_logits)} start-logit windows, {len(end_logits)} end-logit windows and "
            f"{len(offsets)} offset windows; give one of each per window"
        )
    if max_answer_length < 1 or n_best < 1:
        raise ValueError(
            f"max_answer_length ({max_answer_length}) and n_best ({n_best}) must be ≥ 1"
        )
    candidates: list[tuple[int, int, float]] = []
    for w, (starts, ends, offs) in enumerate(zip(start_logits, end_logits, offsets, strict=True)):
        starts, ends = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
        if not len(starts) == len(ends) == len(offs):
            raise ValueError(
                f"window {w}: {len(starts)} start logits, {len(ends)} end logits and {len(offs)} "
                "offsets; give one of each per token"
            )
        top_starts = np.argsort(-starts, kind="stable")[:n_best]
        top_ends = np.argsort(-ends, kind="stable")[:n_best]
        for s in top_starts:
            for e in top_ends:
                if offs[s] is None or offs[e] is None or e < s or e - s + 1 > max_answer_length:
                    continue
                candidates.append((int(offs[s][0]), int(offs[e][1]), float(starts[s] + ends[e])))
    candidates.sort(key=lambda c: -c[2])  # stable: ties keep window/start/end order
    best: dict[tuple[int, int], tuple[int, int, float]] = {}
    for cand in candidates:
        best.setdefault(cand[:2], cand)
        if len(best) == n_best:
            break
    return list(best.values())


# --------------------------------------------------------------------------------------------
# the task kind

N_BEST = 20  # start x end candidates per window (BERT's run_squad, Hugging Face's run_qa)


def answer_tokens(offsets: Sequence[tuple[int, int] | None], start: int, end: int) -> tuple[int, int]:  # fmt: skip
    """The first and last token of the character span ``[start, end)`` in one window (``offsets``:
    each token's character span in the context, ``None`` for question and special tokens), or
    ``(0, 0)`` (the first token, [CLS]) when the window does not hold the whole span."""
    ctx = [i for i, o in enumerate(offsets) if o is not None]
    if not ctx or offsets[ctx[0]][0] > start or offsets[ctx[-1]][1] < end:
        return 0, 0
    first = max(i for i in ctx if offsets[i][0] <= start)
    last = min(i for i in ctx if offsets[i][1] >= end and i >= first)
    return first, last


def question_cap(max_length: int) -> int:
    """The most question tokens a window holds: a third of it (BERT: 64 of 384; a third leaves
    room for a stride of a third plus the special tokens)."""
    return max(1, max_length // 3)


def encode_windows(
    tokenizer, records: Sequence[Mapping], max_length: int, doc_stride: int = 0
) -> Features:
    """Questions and passages → windows (see the module docstring): ``input_ids`` per window,
    ``targets`` the (start, end) token of the first gold answer ((0, 0): not in the window; also
    for records without answers), ``extra``: ``example`` (the record of each window), ``offsets``
    (each token's character span in the passage, ``None`` outside it), ``context`` and, where the
    tokenizer makes them, ``token_type_ids``."""
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(
            "extractive QA needs a fast (Rust) tokenizer: answers are mapped back to the passage "
            "through its character offsets"
        )
    cap = question_cap(max_length)
    stride = doc_stride or max_length // 3
    room = max_length - cap - 3  # context tokens of a window with the longest question
    if not 0 < stride < room:
        raise ValueError(
            f"doc_stride {stride} must be between 1 and {room - 1} for max_length {max_length} "
            f"(windows share doc_stride tokens; a window holds at least {room} passage tokens)"
        )
    questions = [str(r["question"]).lstrip() for r in records]
    cut = 0
    if questions:
        qenc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
        for i, offs in enumerate(qenc["offset_mapping"]):
            if len(offs) > cap:
                questions[i], cut = questions[i][: offs[cap - 1][1]], cut + 1
    contexts = [r["context"] for r in records]
    feats = Features([], [], [], [], [], truncated=cut, kind="qa")
    extra: dict[str, list] = {"example": [], "offsets": [], "context": []}
    if not records:
        feats.extra = extra
        return feats
    enc = tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    types = "token_type_ids" in enc
    if types:
        extra["token_type_ids"] = []
    for w, ids in enumerate(enc["input_ids"]):
        i = enc["overflow_to_sample_mapping"][w]
        seq = enc.sequence_ids(w)
        offsets = [tuple(o) if s == 1 else None for o, s in zip(enc["offset_mapping"][w], seq, strict=True)]  # fmt: skip
        answers = records[i].get("answers") or {}
        if answers.get("text"):
            start = answers["answer_start"][0]
            target = answer_tokens(offsets, start, start + len(answers["text"][0]))
        else:
            target = (0, 0)
        feats.input_ids.append(list(ids))
        feats.targets.append(target)
        feats.first_pos.append([])
        feats.word_index.append([])
        feats.n_words.append(0)
        extra["example"].append(int(i))
        extra["offsets"].append(offsets)
        extra["context"].append(contexts[i])
        if types:
            extra["token_type_ids"].append(list(enc["token_type_ids"][w]))
    feats.extra = extra
    return feats


def decode_answers(
    feats: Features,
    start_logits: Sequence[np.ndarray],
    end_logits: Sequence[np.ndarray],
    max_answer_length: int,
) -> list[str]:
    """The best answer of every question of ``feats`` (record order; "" when no span is valid)
    from its windows' start and end logits (one array per window, over its tokens)."""
    windows: dict[int, list[int]] = {}
    for w, ex in enumerate(feats.extra["example"]):
        windows.setdefault(ex, []).append(w)
    answers = []
    for ex in range(len(windows)):
        ws = windows[ex]
        spans = best_spans(
            [start_logits[w] for w in ws],
            [end_logits[w] for w in ws],
            [feats.extra["offsets"][w] for w in ws],
            max_answer_length,
            N_BEST,
        )
        context = feats.extra["context"][ws[0]]
        answers.append(context[spans[0][0] : spans[0][1]] if spans else "")
    return answers


def check_lang(lang: str) -> str:
    if not lang:
        raise ValueError(
            "QA scores need the language of the answers (lang): exact match and F1 normalise "
            "answers per language"
        )
    return lang


def as_maps(gold: Sequence[Sequence[str]], pred: Sequence[str]) -> tuple[dict, dict]:
    """Positional ids for answers in record order: (predictions, references)."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} questions but {len(pred)} predicted answers")
    return {str(i): p for i, p in enumerate(pred)}, {str(i): list(g) for i, g in enumerate(gold)}


class QA(TaskKind):
    name = "qa"
    schema = "qa"
    token_level = False
    main_metric = "f1"
    metric_name = "F1 (SQuAD v1.1 / MLQA official scripts)"
    also_reported = ("f1_squad",)  # XTREME's XQuAD / MLQA numbers: SQuAD's rule everywhere
    labelled = False

    def gold(self, record: Mapping[str, Any]) -> list[str]:
        return list(record["answers"]["text"])

    def record_labels(self, record: Mapping[str, Any]) -> Iterable[str]:
        return ()

    def encode(self, spec, tokenizer, records: Sequence[Mapping], max_length: int) -> Features:
        return encode_windows(tokenizer, records, max_length, spec.doc_stride)

    def collate(self, feats: Features, idx: np.ndarray, pad_id: int) -> dict:
        """Padded windows with ``token_type_ids`` (where the tokenizer makes them) and the
        answer's ``start_positions`` and ``end_positions``."""
        import torch

        batch = pad_inputs(feats, idx, pad_id)
        if "token_type_ids" in feats.extra:
            types = torch.zeros_like(batch["input_ids"])
            for row, i in enumerate(idx):
                seq = feats.extra["token_type_ids"][i]
                types[row, : len(seq)] = torch.tensor(seq)
            batch["token_type_ids"] = types
        batch["start_positions"] = torch.tensor([feats.targets[i][0] for i in idx])
        batch["end_positions"] = torch.tensor([feats.targets[i][1] for i in idx])
        return batch

    def build_model(self, spec, encoder_dir: str, seed: int):
        from transformers import AutoModelForQuestionAnswering

        return from_pretrained(AutoModelForQuestionAnswering, spec, encoder_dir, seed)

    def predict(self, model, spec, feats: Features, pad_id: int, batch_size: int, device, desc: str = "") -> tuple[list, np.ndarray]:  # fmt: skip
        """The answer text of every question (record order; "" when no span is valid) and the
        mean first-token final-layer vector over all windows (``desc``: the progress bar's name)."""
        import torch

        model.eval()
        starts: list = [None] * len(feats)
        ends: list = [None] * len(feats)
        first_sum = None
        with torch.no_grad():
            for idx in eval_batches(feats, batch_size, desc):
                batch = self.collate(feats, idx, pad_id)
                batch = {k: v.to(device) for k, v in batch.items() if not k.endswith("_positions")}
                res = model(**batch, output_hidden_states=True)
                first = res.hidden_states[-1][:, 0].float().sum(0).cpu().numpy()
                first_sum = first if first_sum is None else first_sum + first
                s_log = res.start_logits.float().cpu().numpy()
                e_log = res.end_logits.float().cpu().numpy()
                for row, i in enumerate(idx):
                    n = len(feats.input_ids[i])
                    starts[i], ends[i] = s_log[row, :n], e_log[row, :n]
        model.train()
        mean = first_sum / max(1, len(feats)) if first_sum is not None else np.zeros(0)
        return decode_answers(feats, starts, ends, spec.max_answer_length), mean.astype(np.float32)

    def scores(self, gold, pred, lang: str = "") -> dict[str, float]:
        """EM and F1 with the official scripts' normalisation for ``lang`` (:func:`qa_scores`),
        and the same under SQuAD v1.1's rule for every language (``*_squad``: how XTREME scores
        XQuAD and TyDi QA, for comparison with published numbers)."""
        preds, refs = as_maps(gold, pred)
        out = qa_scores(preds, refs, check_lang(lang))
        squad = qa_scores(preds, refs, lang, script="squad")
        return {**out, "exact_match_squad": squad["exact_match"], "f1_squad": squad["f1"]}

    def example_stats(self, gold, pred, labels: Sequence[str] = (), lang: str = "") -> np.ndarray:
        """Per question: (EM, F1) in [0, 1] (:func:`qa_example_stats`)."""
        preds, refs = as_maps(gold, pred)
        return qa_example_stats(preds, refs, check_lang(lang))

    def score_from_stats(self, stats: np.ndarray):
        return qa_score_from_stats(stats)


KIND = QA()
