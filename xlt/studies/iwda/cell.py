"""One job of the IWDA study (rules/iwda.smk): one task, target and seed, every variant in turn.

Stage 1 (zero-shot) and the supervised upper bound, then each configured variant from a copy of
the stage-1 model (:mod:`.iwda`, :mod:`.self_train`, :mod:`.distill`), the candidate records, and
the analysis document (label-shift estimates, feature shift per model, the re-sampled-prior study:
:mod:`.prior_shift`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

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
from .iwda import IWDAConfig, oracle_weights, read_unlabelled, run_iwda, unit_features
from .prior_shift import (
    class_prior,
    conditional_feature_shift,
    prior_shift,
    random_priors,
    shift_study,
)
from .self_train import SelfTrainConfig, run_self_training

log = logging.getLogger("xlt.iwda")


def run_iwda_cell(
    params: Mapping[str, Any],
    encoder_dir: str,
    train_paths: Mapping[str, str],
    eval_paths: Mapping[str, str],
    outputs: Mapping[str, str],
) -> dict[str, Any]:
    """One job of the IWDA study (rules/iwda.smk): one task, target and seed.

    Trains zero-shot (stage 1) and the supervised upper bound, then every configured variant from
    copies of the stage-1 model (IWDA-ST and IWDA-KD from the IWDA model), writes each candidate
    record (``v{i}_metrics`` … in the order of ``params["methods"]``) and the analysis document
    (``analysis``): label-shift estimates against the true ratio, conditional feature shift of each
    model between source and target dev + test, and the zero-shot model's performance on target
    subsets re-sampled to random class priors (xlt.studies.iwda.prior_shift.shift_study).

    ``train_paths``: ``source`` and ``target`` (labelled train files) and ``unlabelled`` (the
    target split whose text alone reaches the methods: :func:`read_unlabelled`).
    """
    from transformers import AutoTokenizer

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
    tok = AutoTokenizer.from_pretrained(str(encoder_dir))
    k = len(labels)
    # analysis sets: source dev, target dev + test (labelled; never given to a method)
    src_eval = evals[base["source"]]["dev"]
    tgt_eval = [r for split in ("dev", "test") for r in evals[tgt].get(split, [])]
    target_labels = unit_features_labels(spec, tok, target_train, cfg)
    true_prior = class_prior(target_labels, k)
    log.info("iwda cell %s/%s seed=%d: %d source, %d unlabelled target examples", base["task"], tgt, cfg.seed, len(source), len(target))  # fmt: skip

    results, models, info = {}, {}, {}
    stage1 = finetune(cfg, encoder_dir, source, evals)
    results["zero-shot"], models["zero-shot"] = stage1, stage1.model
    results["supervised"] = finetune(cfg, encoder_dir, target_train, evals)
    models["supervised"] = results["supervised"].model
    s2 = dict(params.get("stage2") or {})
    for variant in ("align", "iwda", "oracle"):
        if variant in params["variants"]:
            run = run_iwda(cfg, IWDAConfig(**{**s2, "variant": variant}), encoder_dir, source, target, evals,
                           model=copy.deepcopy(models["zero-shot"]),
                           target_prior=true_prior if variant == "oracle" else None)  # fmt: skip
            results[variant], models[variant] = run.result, run.result.model
            info[variant] = run.info
    st = SelfTrainConfig(**(params.get("self_train") or {}))
    for variant, start in (("st", "zero-shot"), ("iwda-st", "iwda")):
        if variant in params["variants"]:
            results[variant] = run_self_training(cfg, st, encoder_dir, source, target, evals, model=copy.deepcopy(models[start]))  # fmt: skip
            models[variant] = results[variant].model
    if "iwda-kd" in params["variants"]:
        kd = dict(params.get("distill") or {})
        kd_cfg = replace(cfg, lr=float(kd.pop("lr", None) or cfg.lr), epochs=int(kd.pop("epochs", None) or cfg.epochs))  # fmt: skip
        results["iwda-kd"] = run_distill(kd_cfg, DistillConfig(**kd), encoder_dir, models["iwda"], source, target, evals)  # fmt: skip
        models["iwda-kd"] = results["iwda-kd"].model

    # --- the records, in the order of the rule's outputs
    for i, method in enumerate(params["methods"]):
        variant = method.split(".", 2)[2]
        meta = {**candidate_meta({**base, "method": method}, cfg), "train_files": dict(train_paths),
                "iwda": {"target": tgt, "variant": variant, "unlabelled": len(target)}}  # fmt: skip
        res = results[variant]
        write_candidate(res, cfg, meta, outputs[f"v{i}_metrics"], outputs[f"v{i}_predictions"], outputs[f"v{i}_features"])  # fmt: skip

    # --- the analyses (target labels are read here, after every model is trained)
    shift, units = {}, {}
    for variant, model in models.items():
        _, ys, zs = unit_features(model, spec, tok, src_eval, cfg)
        pt, yt, zt = unit_features(model, spec, tok, tgt_eval, cfg)
        shift[variant] = conditional_feature_shift(zs, ys, zt, yt, k)
        units[variant] = (zs, ys, zt, yt, pt)
    zs, ys, zt, yt, pt = units["zero-shot"]
    sh = params.get("shift") or {}
    priors = random_priors(k, int(sh.get("subsets", 50)), cfg.seed, float(sh.get("concentration", 1.0)))  # fmt: skip
    present = np.bincount(yt, minlength=k)[:k] > 0
    priors = priors * present
    priors = priors / priors.sum(1, keepdims=True)
    study = shift_study(zs, ys, zt, yt, pt, k, priors, int(sh.get("size", 100)), cfg.seed)
    p_s = class_prior(ys, k)
    doc = {
        "task": base["task"], "source": base["source"], "target": tgt, "seed": cfg.seed,
        "kind": kind, "labels": list(labels), "units": "words" if token else "sequences",
        "true_target_prior": [round(float(v), 5) for v in true_prior],
        "true_weights": [round(float(v), 5) for v in oracle_weights(p_s, true_prior)],
        "label_shift": {v: i for v, i in info.items()},
        "feature_shift": {v: round(float(x), 5) for v, x in shift.items()},
        "prior_shift": round(prior_shift(ys, target_labels, k), 5),
        "shift_study": study,
        "scores": {v: r.scores for v, r in results.items()},
    }  # fmt: skip
    write_json(outputs["analysis"], doc)
    return doc


def unit_features_labels(spec, tokenizer, records: Sequence[Mapping], cfg) -> np.ndarray:
    """Gold label ids per unit of labelled ``records`` (the oracle's true target prior)."""
    feats = encode(spec, tokenizer, records, cfg.max_length)
    gold = np.concatenate([np.asarray(t) for t in feats.targets]) if spec.token_level else np.asarray(feats.targets)  # fmt: skip
    return gold[gold != IGNORE]
