"""One job of the IWDA study (rules/iwda.smk): one task, target and seed, every variant in turn.

Stage 1 (zero-shot) and the supervised upper bound, then each configured variant from a copy of
the stage-1 model (:mod:`.iwda`, :mod:`.self_train`, :mod:`.distill`), the candidate records, and
the analysis document (label-shift estimates and w's trajectory against the true weights, feature
shift per model, the re-sampled-prior study: :mod:`.prior_shift`). With ``levels`` (the paper's
prior-shift protocol), the variants train once per level on the unlabelled split subsampled to
that level's class prior, and are scored in the analysis document only (:func:`run_levels`).

Whatever needs the data to be checked (the distillation's frozen layers against the encoder, the
re-sampled subsets' size, the levels' subsample size and reach) is checked before anything
trains (:func:`check_before_training`).
"""

from __future__ import annotations

import copy
import gc
import logging
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from xlt.config import ConfigError
from xlt.finetune import (
    candidate_meta,
    finetune,
    finetune_config,
    load_evals,
    load_labelled,
    write_candidate,
)
from xlt.io import write_json
from xlt.tasks import IGNORE, encode, infer_labels

from .distill import DistillConfig, run_distill
from .iwda import (
    IWDAConfig,
    load_tokenizer,
    oracle_weights,
    read_unlabelled,
    run_iwda,
    stage1_statistics,
    unit_features,
    unlabelled,
)
from .prior_shift import (
    class_prior,
    conditional_feature_shift,
    prior_shift,
    prior_weights,
    random_priors,
    shift_direction,
    shift_study,
    shifted_prior,
    subsample_to_prior,
    unit_scores,
)
from .self_train import SelfTrainConfig, run_self_training
from .settings import SHIFT_DEFAULTS

log = logging.getLogger("xlt.iwda")

ADAPTED = ("align", "iwda", "oracle")  # the stage-2 variants (run_iwda)
R = 5  # decimals kept in the analysis document


def _r(xs) -> list[float]:
    return [round(float(x), R) for x in xs]


def run_iwda_cell(
    params: Mapping[str, Any],
    encoder_dir: str,
    train_paths: Mapping[str, str],
    eval_paths: Mapping[str, str],
    outputs: Mapping[str, str],
) -> dict[str, Any]:
    """One job of the IWDA study (rules/iwda.smk): one task, target and seed.

    Trains zero-shot (stage 1) and the supervised upper bound, then every configured variant from
    copies of the stage-1 model (IWDA-ST and IWDA-KD from the IWDA model) — with ``levels``, once
    per level (:func:`run_levels`) — writes each candidate record (``v{i}_metrics`` … of its
    method in ``params["methods"]``) as soon as its model is trained, and the analysis document (``analysis``): label-shift
    estimates and w's trajectory against the true ratio, conditional feature shift of each model
    between source and target dev + test, and the zero-shot model's macro-F1 and accuracy on
    target subsets re-sampled to random class priors (xlt.studies.iwda.prior_shift.shift_study).

    ``train_paths``: ``source`` and ``target`` (labelled train files) and ``unlabelled`` (the
    target split whose text alone reaches the methods: :func:`read_unlabelled`).
    """
    base, tgt = params["base"], params["target"]
    kind, labels = base["kind"], base.get("labels")
    source = load_labelled(train_paths["source"], kind, labels)
    target_train = load_labelled(train_paths["target"], kind, labels)  # the upper bound only
    evals = load_evals(kind, labels, eval_paths)
    if not labels:  # a dataset without a declared label set (SIB-200): the labels seen
        labels = infer_labels(kind, [source, target_train, *[r for v in evals.values() for r in v.values()]])  # fmt: skip
    cfg = finetune_config(base, labels)
    spec, token = cfg.spec, cfg.spec.token_level
    target = read_unlabelled(train_paths["unlabelled"], token)
    tok = load_tokenizer(str(encoder_dir))
    k = len(labels)
    # analysis sets: source dev, target dev + test (labelled; never given to a method)
    src_eval = evals[base["source"]]["dev"]
    tgt_eval = [r for split in ("dev", "test") for r in evals[tgt].get(split, [])]
    target_labels = unit_labels(spec, tok, target_train, cfg)
    true_prior = class_prior(target_labels, k)
    p_source = class_prior(unit_labels(spec, tok, source, cfg), k)  # the prior training sees
    levels = None
    if params.get("levels"):  # labels of the unlabelled split: for the draws only
        pool = load_labelled(train_paths["unlabelled"], kind, labels)
        levels = draw_levels(params["levels"], p_source, pool, labels, tgt, cfg.seed)
    check_before_training(params, encoder_dir, tgt_eval, token)
    log.info("iwda cell %s/%s seed=%d: %d source, %d unlabelled target examples", base["task"], tgt, cfg.seed, len(source), len(target))  # fmt: skip

    true_w = oracle_weights(p_source, true_prior)
    results, info, shift = {}, {}, {}

    def analyse(variant: str, model) -> tuple[np.ndarray, ...]:
        """Conditional feature shift of a model (source dev vs target dev + test), measured as
        soon as it is trained so that it can be dropped (target labels are read here only)."""
        _, ys, zs = unit_features(model, spec, tok, src_eval, cfg)
        pt, yt, zt = unit_features(model, spec, tok, tgt_eval, cfg)
        shift[variant] = conditional_feature_shift(zs, ys, zt, yt, k)
        return zs, ys, zt, yt, pt

    outputs_of = {m.split(".", 2)[2]: (i, m) for i, m in enumerate(params["methods"])}
    written: set[str] = set()

    def record(variant: str) -> None:
        """Write a variant's candidate record (``v{i}_*`` of its method) as soon as it is trained:
        a job killed later leaves the records of the models it finished."""
        if variant not in outputs_of:
            return
        i, method = outputs_of[variant]
        meta = {**candidate_meta({**base, "method": method}, cfg), "train_files": dict(train_paths),
                "iwda": {"target": tgt, "variant": variant, "unlabelled": len(target)}}  # fmt: skip
        write_candidate(results[variant], cfg, meta, outputs[f"v{i}_metrics"], outputs[f"v{i}_predictions"], outputs[f"v{i}_features"])  # fmt: skip
        written.add(variant)

    stage1 = finetune(cfg, encoder_dir, source, evals)
    results["zero-shot"], zero_shot = stage1, stage1.model
    zs, ys, zt, yt, pt = analyse("zero-shot", zero_shot)
    record("zero-shot")
    results["supervised"] = finetune(cfg, encoder_dir, target_train, evals)
    analyse("supervised", results["supervised"].model)
    record("supervised")
    level_docs = None
    if levels is not None:
        test = evals[tgt]["test"]
        fixed = {"zero-shot": measure(zero_shot, cfg, tok, src_eval, test),
                 "supervised": measure(results["supervised"].model, cfg, tok, src_eval, test)}  # fmt: skip
        drop(results["supervised"])
        level_docs = run_levels(params, cfg, encoder_dir, source, levels, zero_shot, fixed, src_eval, test, p_source)  # fmt: skip
    drop(results["supervised"])
    if levels is None:
        for variant, res, extra in train_variants(params, cfg, encoder_dir, source, target, evals, zero_shot, true_prior):  # fmt: skip
            results[variant] = res
            if extra is not None:
                info[variant] = extra
            analyse(variant, res.model)
            record(variant)
            drop(res)

    for variant in sorted(results.keys() - written):  # any record not written yet
        record(variant)

    # --- the re-sampled-prior study of the zero-shot model (target labels are read here)
    sh = {**SHIFT_DEFAULTS, **(params.get("shift") or {})}
    priors = random_priors(k, int(sh["subsets"]), cfg.seed, float(sh["concentration"]))
    present = np.bincount(yt, minlength=k)[:k] > 0
    priors = priors * present
    priors = priors / priors.sum(1, keepdims=True)
    study = shift_study(zs, ys, zt, yt, pt, k, priors, int(sh["size"]), cfg.seed)
    doc = {
        "task": base["task"], "source": base["source"], "target": tgt, "seed": cfg.seed,
        "kind": kind, "labels": list(labels), "units": "words" if token else "sequences",
        "source_prior": _r(p_source),
        "true_target_prior": _r(true_prior),
        "true_weights": _r(true_w),
        "label_shift": {v: with_distances(i, true_w) for v, i in info.items()},
        "feature_shift": {v: round(float(x), R) for v, x in shift.items()},
        "prior_shift": round(prior_shift(ys, target_labels, k), R),
        "shift_study": study,
        "scores": {v: r.scores for v, r in results.items()},
    }  # fmt: skip
    if level_docs is not None:
        doc["levels"] = level_docs
    write_json(outputs["analysis"], doc)
    return doc


def train_variants(
    params: Mapping[str, Any], cfg, encoder_dir: str, source: Sequence[Mapping],
    target: Sequence[Mapping], evals, zero_shot, target_prior: np.ndarray, stats=None,
) -> Iterator[tuple[str, Any, dict | None]]:  # fmt: skip
    """Every configured variant from copies of the ``zero_shot`` model, in training order, one at
    a time: (variant, CandidateResult, IWDA info or None); the caller may drop a result's model
    once it has it (the IWDA model is kept here while IWDA + ST and + KD need it). ``target``:
    unlabelled records; ``target_prior``: the oracle's true prior; ``stats``: the zero-shot
    model's :func:`~.iwda.stage1_statistics` on ``source`` and ``target`` when already computed."""
    s2 = dict(params.get("stage2") or {})
    iwda_model = None
    for variant in ADAPTED:
        if variant in params["variants"]:
            run = run_iwda(cfg, IWDAConfig(**{**s2, "variant": variant}), encoder_dir, source, target, evals,
                           model=copy.deepcopy(zero_shot), stats=stats,
                           target_prior=target_prior if variant == "oracle" else None)  # fmt: skip
            if variant == "iwda" and any(v in params["variants"] for v in ("iwda-st", "iwda-kd")):
                iwda_model = run.result.model
            yield variant, run.result, run.info
    st = SelfTrainConfig(**(params.get("self_train") or {}))
    for variant, start in (("st", zero_shot), ("iwda-st", iwda_model)):
        if variant in params["variants"]:
            yield variant, run_self_training(cfg, st, encoder_dir, source, target, evals, model=copy.deepcopy(start)), None  # fmt: skip
    if "iwda-kd" in params["variants"]:
        kd = DistillConfig(**(params.get("distill") or {}))
        kd_cfg = replace(cfg, lr=cfg.lr if kd.lr is None else kd.lr, epochs=cfg.epochs if kd.epochs is None else kd.epochs)  # fmt: skip
        yield "iwda-kd", run_distill(kd_cfg, kd, encoder_dir, iwda_model, source, target, evals), None  # fmt: skip


def drop(result) -> None:
    """Release a trained model once everything that needs it is measured (the record needs only
    the scores, predictions and features already in ``result``)."""
    result.model = None
    gc.collect()


def with_distances(info: Mapping[str, Any], true_w: np.ndarray) -> dict[str, Any]:
    """A variant's IWDA info plus the ℓ1 distance of w to the true weights at every recorded step
    (``w_l1_to_true``) and at its start and end: for the report only, never seen in training."""
    out = dict(info)
    traj = info.get("w_trajectory")
    l1 = lambda w: round(float(np.abs(np.asarray(w, float) - true_w).sum()), R)  # noqa: E731
    if traj:
        out["w_l1_to_true"] = [l1(w) for w in traj["w"]]
    out["w_l1_init"], out["w_l1_final"] = l1(info["w_init"]), l1(info["w_final"])
    out["w_l1_uniform"] = l1(np.ones(len(true_w)))
    return out


# --------------------------------------------------------------------------- the prior levels


def draw_levels(
    spec: Mapping[str, Any], p_source: np.ndarray, pool: Sequence[Mapping], labels: Sequence[str],
    target: str, seed: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """Per level of ``spec["tv"]``: the class prior at that total variation from ``p_source``
    (towards one seeded random direction for all levels of this target and seed), and a subsample
    of ``pool`` (the labelled unlabelled split; its labels are used here only) with that prior,
    without replacement, the same size at every level. Errors name ``iwda.levels.*``."""
    ids = {lab: j for j, lab in enumerate(labels)}
    y = np.array([ids[r["label"]] for r in pool])
    counts = np.bincount(y, minlength=len(labels))
    smallest = int(counts.min())
    size = spec.get("size") or smallest
    if size > smallest:
        raise ConfigError(f"iwda.levels.size: {size}, but the unlabelled split of {target!r} has {smallest} examples of its rarest class ({dict(zip(labels, counts.tolist(), strict=True))}), so not every prior can be drawn without replacement; use at most {smallest} or leave it out")  # fmt: skip
    base = [int(spec.get("seed", 0)), int(seed), zlib.crc32(target.encode())]
    tvs = [float(t) for t in spec["tv"]]
    try:
        towards = shift_direction(p_source, max(tvs), base) if max(tvs) > 0 else p_source
    except ValueError as e:
        raise ConfigError(f"iwda.levels.tv: {max(tvs)} is out of reach of the source prior {_r(p_source)}: {e}") from None  # fmt: skip
    out = []
    for i, tv in enumerate(tvs):
        prior = shifted_prior(p_source, tv, towards)
        draw = [*base, i]
        idx = subsample_to_prior(y, prior, size, draw)
        sub = [pool[j] for j in idx]
        true = np.bincount(y[idx], minlength=len(labels)) / len(idx)
        out.append({
            "tv": tv, "prior": _r(prior), "towards": _r(towards), "seed": draw, "size": int(size),
            "counts": np.bincount(y[idx], minlength=len(labels)).tolist(),
            "true_prior": _r(true), "tv_measured": round(0.5 * float(np.abs(true - p_source).sum()), R),
            "ids": [str(r["id"]) for r in sub],
            "records": unlabelled(sub, token_level=False),  # text only from here on
        })  # fmt: skip
    return out


def run_levels(
    params: Mapping[str, Any], cfg, encoder_dir: str, source: Sequence[Mapping],
    levels: list[dict[str, Any]], zero_shot, fixed: Mapping[str, tuple], src_eval: Sequence[Mapping],
    test: Sequence[Mapping], p_source: np.ndarray,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every configured variant per level (from copies of the ``zero_shot`` model, on the level's
    unlabelled subsample), each model scored on the target's ``test`` split reweighted to the
    level's true prior (macro-F1 and accuracy; ``fixed``: the :func:`measure` of models shared by
    the levels, zero-shot and supervised), its conditional feature shift (source dev vs target
    test), and the importance weights' trajectory with its distance to the level's true weights.
    Each model is dropped once measured."""
    k = len(cfg.spec.labels)
    tok = load_tokenizer(str(encoder_dir))
    sp, sg, _ = stage1_statistics(cfg, encoder_dir, zero_shot, source, [])
    out = []
    for level in levels:
        records = level["records"]
        _, _, tp = stage1_statistics(cfg, encoder_dir, zero_shot, [], records)
        prior = np.asarray(level["true_prior"])
        true_w = oracle_weights(p_source, prior)
        log.info("iwda level tv=%.2f: prior %s, %d unlabelled examples", level["tv"], level["true_prior"], len(records))  # fmt: skip
        measured, infos = dict(fixed), {}
        for variant, res, extra in train_variants(params, cfg, encoder_dir, source, records, {}, zero_shot, prior, (sp, sg, tp)):  # fmt: skip
            measured[variant] = measure(res.model, cfg, tok, src_eval, test)
            drop(res)
            if extra is not None:
                infos[variant] = extra
        scores, fshift = {}, {}
        for variant, (pt, yt, fs) in measured.items():
            scores[variant] = {m: round(v, R) for m, v in unit_scores(pt, yt, k, prior_weights(yt, prior, k)).items()}  # fmt: skip
            fshift[variant] = round(float(fs), R)
        doc = {key: v for key, v in level.items() if key != "records"}
        doc |= {
            "true_weights": _r(true_w),
            "scores": scores,
            "feature_shift": fshift,
            "label_shift": {v: with_distances(i, true_w) for v, i in infos.items()},
        }
        out.append(doc)
    return out


# ------------------------------------------------------------------------ checks and helpers


def check_before_training(
    params: Mapping[str, Any], encoder_dir: str, tgt_eval: Sequence[Mapping], token_level: bool
) -> None:
    """What the settings cannot check without the data or the encoder, before anything trains:
    IWDA + KD's frozen layers against the encoder's layers, and the re-sampled subsets' size
    against the target's analysis units (dev + test). Errors name the key (ConfigError)."""
    if "iwda-kd" in params["variants"]:
        from transformers import AutoConfig

        freeze = DistillConfig(**(params.get("distill") or {})).freeze_layers
        layers = getattr(AutoConfig.from_pretrained(str(encoder_dir)), "num_hidden_layers", None)
        if layers is not None and freeze > layers:
            raise ConfigError(f"iwda.distill.freeze_layers: {freeze}, but the encoder ({encoder_dir}) has {layers} layers; use at most {layers}")  # fmt: skip
    size = int({**SHIFT_DEFAULTS, **(params.get("shift") or {})}["size"])
    units = sum(len(r["tokens"]) for r in tgt_eval) if token_level else len(tgt_eval)
    if size > units:
        raise ConfigError(f"iwda.shift.size: {size} units per re-sampled subset, but the target {params['target']!r} has {units} units in its dev + test sets; use at most {units}")  # fmt: skip


def measure(model, cfg, tokenizer, src_eval: Sequence[Mapping], test: Sequence[Mapping]) -> tuple:
    """(predicted ids, gold ids) of a model on the target ``test`` units and its conditional
    feature shift between ``src_eval`` and ``test``."""
    spec, k = cfg.spec, len(cfg.spec.labels)
    _, ys, zs = unit_features(model, spec, tokenizer, src_eval, cfg)
    pt, yt, zt = unit_features(model, spec, tokenizer, test, cfg)
    return pt, yt, conditional_feature_shift(zs, ys, zt, yt, k)


def unit_labels(spec, tokenizer, records: Sequence[Mapping], cfg) -> np.ndarray:
    """Gold label ids per unit of labelled ``records`` (sequences, or words' first sub-words)."""
    feats = encode(spec, tokenizer, records, cfg.max_length)
    gold = np.concatenate([np.asarray(t) for t in feats.targets]) if spec.token_level else np.asarray(feats.targets)  # fmt: skip
    return gold[gold != IGNORE]
