"""MetaXL: the RTN, its placement and switch, the bi-level step (meta-gradient vs finite
differences), the few-shot setting, the grid entry point, and the shift analyses."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from xlt.analysis.shift import hausdorff, pca_2d, representations
from xlt.finetune import FinetuneConfig
from xlt.studies.metaxl.metaxl import (
    METHODS,
    RTN,
    RTN_METHODS,
    MetaXLConfig,
    RTNSet,
    draw_few_shot,
    eager_attention,
    meta_gradient,
    resolve_layers,
    train_metaxl,
)
from xlt.tasks import TaskSpec
from xlt.train.loop import default_loss

VOCAB, HIDDEN = 60, 16


def tiny_bert_tagger(layers: int = 2, labels: int = 3, seed: int = 0):
    from transformers import BertConfig, BertForTokenClassification

    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=layers,
                     num_attention_heads=2, intermediate_size=32, num_labels=labels,
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)  # fmt: skip
    return BertForTokenClassification(cfg)


def batch(seed: int, rows: int = 3, width: int = 6, labels: int = 3) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, VOCAB, (rows, width), generator=g)
    mask = torch.ones_like(ids)
    mask[0, -2:] = 0
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.randint(0, labels, (rows, width), generator=g)}  # fmt: skip


def randomise(rtns: RTNSet, seed: int = 1, scale: float = 0.3) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in rtns.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))


# --------------------------------------------------------------------------------------------
# RTN and its placement


def test_rtn_forms_residual_paper_and_authors():
    h = torch.randn(2, 5, HIDDEN, requires_grad=True)
    rtn = RTN(HIDDEN, 4)
    assert torch.equal(rtn(h), h)  # residual form: W2 = 0, b2 = 0, the identity at the start
    plain = RTN(HIDDEN, 4, form="paper")
    expected = plain.up(torch.relu(plain.down(h)))  # W2^T ReLU(W1^T h + b1) + b2, random init
    assert torch.allclose(plain(h), expected) and plain.up.weight.abs().sum() > 0
    assert plain.down.weight.shape == (4, HIDDEN) and plain.up.weight.shape == (HIDDEN, 4)
    authors = RTN(HIDDEN, 4, form="authors")
    assert torch.allclose(authors(h), h + authors.up(torch.relu(authors.down(h))))
    # the authors' code adds g_φ(h.detach()): θ's gradient sees only the skip path
    (gh,) = torch.autograd.grad(authors(h).sum(), h)
    assert torch.equal(gh, torch.ones_like(h))
    (gp,) = torch.autograd.grad(plain(h).sum(), h)
    assert not torch.allclose(gp, torch.ones_like(h))


def test_bottleneck_must_be_below_the_width():
    with pytest.raises(ValueError, match=r"metaxl.bottleneck: 16 is not below the encoder's width 16.*e\.g\. 8"):  # fmt: skip
        RTN(HIDDEN, HIDDEN)
    model = tiny_bert_tagger()
    rtns = RTNSet(model, (1,))  # default r = d/2
    assert rtns.rtns["1"].down.out_features == HIDDEN // 2
    rtns.remove()
    with pytest.raises(ValueError, match="not below the encoder's width"):
        RTNSet(model, (1,), bottleneck=HIDDEN + 1)


def test_rtn_only_for_source_training_batches_never_at_evaluation():
    model = tiny_bert_tagger()
    b = batch(0)
    b.pop("labels")
    model.train()
    plain = model(**b).logits
    rtns = RTNSet(model, (0, 2), bottleneck=4)
    randomise(rtns)
    assert rtns.layers == (0, 2)
    assert not any(p is q for p in rtns.parameters() for q in model.parameters())  # φ outside θ
    assert not torch.allclose(model(**b).logits, plain)  # source batch, training: transformed
    with rtns.off():  # target batch
        assert torch.equal(model(**b).logits, plain)
    model.eval()  # evaluation
    assert torch.equal(model(**b).logits, plain)
    model.train()
    rtns.remove()
    assert torch.equal(model(**b).logits, plain)


def test_rtns_attach_to_an_xlm_roberta_sequence_classifier():
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    torch.manual_seed(0)
    cfg = XLMRobertaConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=3,
                           num_attention_heads=2, intermediate_size=32, num_labels=2,
                           max_position_embeddings=40, pad_token_id=1, hidden_dropout_prob=0.0,
                           attention_probs_dropout_prob=0.0)  # fmt: skip
    model = XLMRobertaForSequenceClassification(cfg).train()
    b = batch(1, labels=2)
    b["labels"] = b["labels"][:, 0]
    plain = model(**b).logits
    rtns = RTNSet(model, (-1,), bottleneck=4)
    assert rtns.layers == (3,)
    randomise(rtns)
    assert not torch.allclose(model(**b).logits, plain)
    assert torch.equal(model.eval()(**b).logits, plain)


def test_layer_index_beyond_the_depth_is_a_clear_error():
    model = tiny_bert_tagger(layers=2)
    with pytest.raises(ValueError, match=r"layer index 3 is beyond.*0\.\.2"):
        RTNSet(model, (0, 3))
    with pytest.raises(ValueError, match="layer index -2"):
        resolve_layers((-2,), 2)
    assert resolve_layers((-1, 0, 2), 2) == (0, 2)


@pytest.mark.parametrize("bad", [0.0, -1e-5])
def test_meta_lr_must_be_positive(bad):
    with pytest.raises(ValueError, match=r"metaxl\.meta_lr must be > 0"):
        MetaXLConfig(meta_lr=bad)
    with pytest.raises(ValueError, match="mode"):
        MetaXLConfig(mode="maml")


def test_few_shot_draw_is_seeded_and_checks_n():
    recs = [{"id": str(i)} for i in range(10)]
    a, b = draw_few_shot(recs, 4, seed=3), draw_few_shot(recs, 4, seed=3)
    assert a == b and len({r["id"] for r in a}) == 4
    assert draw_few_shot(recs, 4, seed=4) != a
    with pytest.raises(ValueError, match=r"metaxl.n: 11 examples .* has only 10; lower metaxl.n"):
        draw_few_shot(recs, 11, seed=0, where="data/ner/xx/train.jsonl")
    # a source subset names its own key
    with pytest.raises(ValueError, match=r"^metaxl.source_size: 11 .*lower metaxl.source_size"):
        draw_few_shot(recs, 11, seed=0, where="en/train.jsonl", key="metaxl.source_size")


# --------------------------------------------------------------------------------------------
# the bi-level step


def test_meta_gradient_matches_finite_differences():
    torch.manual_seed(0)
    model = tiny_bert_tagger().double().train()
    assert eager_attention(model) is not None  # fused attention kernels have no double backward
    rtns = RTNSet(model, (1,), bottleneck=3)
    randomise(rtns)
    src, tgt, alpha = batch(1), batch(2), 0.5

    def meta_loss() -> torch.Tensor:
        loss = default_loss(model, src)
        return meta_gradient(model, rtns, loss, tgt, alpha)[1]

    grads, _ = meta_gradient(model, rtns, default_loss(model, src), tgt, alpha)
    phi = rtns.parameters()
    g = torch.Generator().manual_seed(5)
    v = [torch.randn(p.shape, generator=g, dtype=torch.float64) for p in phi]
    analytic = sum(float((gi * vi).sum()) for gi, vi in zip(grads, v, strict=True))
    eps = 1e-5

    def shifted(sign: float) -> float:
        with torch.no_grad():
            for p, vi in zip(phi, v, strict=True):
                p.add_(sign * eps * vi)
        out = float(meta_loss().detach())
        with torch.no_grad():
            for p, vi in zip(phi, v, strict=True):
                p.sub_(sign * eps * vi)
        return out

    numeric = (shifted(1.0) - shifted(-1.0)) / (2 * eps)
    assert abs(analytic) > 1e-4  # the check is not vacuous
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-9)
    # with α = 0 the meta loss is the plain model's target loss: the RTN is off for target data
    with rtns.off():
        plain = float(default_loss(model, tgt))
    assert float(meta_gradient(model, rtns, default_loss(model, src), tgt, 0.0)[1]) == pytest.approx(plain)  # fmt: skip


# --------------------------------------------------------------------------------------------
# the grid entry point on a tiny separable task (random encoders: no downloads)

FILL_S = [f"sw{i}" for i in range(12)]  # source filler words
FILL_T = [f"tw{i}" for i in range(12)]  # target filler words
NAMES = ["Ana", "Bo", "Cy", "Di"]  # shared between the languages (like names in NER)


def tag_records(fill, n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        toks = [rng.choice(NAMES) if rng.random() < 0.3 else rng.choice(fill) for _ in range(rng.randint(3, 7))]  # fmt: skip
        out.append({"id": str(i), "tokens": toks, "tags": ["B-PER" if t in NAMES else "O" for t in toks]})  # fmt: skip
    return out


def sent_records(fill, n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = rng.choice(["positive", "negative"])
        words = [rng.choice(fill) for _ in range(rng.randint(2, 5))]
        words.insert(rng.randint(0, len(words)), "good" if label == "positive" else "bad")
        out.append({"id": str(i), "text": " ".join(words), "label": label})
    return out


@pytest.fixture(scope="module")
def encoders(tmp_path_factory):
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    from xlt.encoder import train_tokenizer

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("metaxl")
    texts = [" ".join([*FILL_S, *FILL_T, *NAMES, "good", "bad"])] * 4
    out = {}
    for name in ("bert", "xlmr"):
        tok = train_tokenizer(texts, 120, root / name, max_length=32)
        common = dict(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=64, pad_token_id=tok.pad_token_id)  # fmt: skip
        torch.manual_seed(0)
        if name == "bert":
            BertModel(BertConfig(**common, max_position_embeddings=64)).save_pretrained(root / name)
        else:
            XLMRobertaModel(XLMRobertaConfig(**common, max_position_embeddings=64)).save_pretrained(root / name)  # fmt: skip
        out[name] = root / name
    return out


def _cfg(kind, labels, **kw) -> FinetuneConfig:
    return FinetuneConfig(kind=kind, labels=labels, lr=3e-3, epochs=3, batch_size=8, seed=0,
                          max_length=32, device="cpu", warmup_ratio=0.0, **kw)  # fmt: skip


@pytest.mark.parametrize(
    ("encoder", "kind", "labels", "make"),
    [("bert", "ner", ("O", "B-PER"), tag_records),
     ("xlmr", "classification", ("negative", "positive"), sent_records)],
)  # fmt: skip
def test_metaxl_trains_phi_and_theta_on_bert_tagger_and_xlmr_classifier(encoders, encoder, kind, labels, make):  # fmt: skip
    source, pool = make(FILL_S, 120, 1), make(FILL_T, 80, 2)
    target = draw_few_shot(pool, 16, seed=0)
    dev, test = make(FILL_T, 40, 3), make(FILL_T, 60, 4)
    mcfg = MetaXLConfig(layers=(0, -1), bottleneck=8, meta_lr=1e-3)
    res = train_metaxl(_cfg(kind, labels), encoders[encoder], "metaxl", source, target, dev, {"tt": {"dev": dev, "test": test}}, mcfg)  # fmt: skip
    info = res.info
    assert info["metaxl"]["meta_steps"] == info["steps"] > 0 and info["few_shot_target"] == 16
    assert info["metaxl"]["phi_change"] > 0  # the meta step moved φ
    curve = res.loss_curve
    assert np.mean(curve[-5:]) < np.mean(curve[:5])  # the source loss fell
    main = "f1" if kind == "ner" else "accuracy"
    assert res.scores["tt"]["test"][main] > (50 if kind == "ner" else 70)  # above chance
    assert info["select_by_dev"]["best_epoch"] is not None
    assert len(info["select_by_dev"]["dev_per_epoch"]) == 3
    # RTN gone after training: the returned model is the plain encoder
    hooks = [h for m in res.model.modules() for h in m._forward_hooks.values()]
    assert not any(h.__qualname__.startswith("RTNSet") for h in hooks)


def test_baselines_of_the_grid_run_through_the_same_entry_point(encoders):
    source, target = tag_records(FILL_S, 60, 1), tag_records(FILL_T, 12, 2)
    dev = tag_records(FILL_T, 20, 3)
    cfg = _cfg("ner", ("O", "B-PER"), pooling="first")
    mcfg = MetaXLConfig(layers=(1,), bottleneck=4, meta_lr=1e-3)
    res = {}
    for method in METHODS:
        res[method] = train_metaxl(cfg, encoders["bert"], method, source, target, dev, {"tt": {"dev": dev}}, mcfg)  # fmt: skip
        info = res[method].info
        assert info["source_examples"] == (0 if method == "target-only" else 60)
        assert ("metaxl" in info) == (method in RTN_METHODS)
    steps = {m: r.info["steps"] for m, r in res.items()}
    # an epoch is a pass over the source (60 examples, batch 8: 8 steps) except for target-only
    # (12: 2 steps) and the concatenation (72: 9 steps)
    assert steps["target-only"] == 3 * 2 and steps["jt-concat"] == 3 * 9
    assert all(steps[m] == 3 * 8 for m in ("jt", "jt-rtn", "metaxl", "metaxl-joint", "metaxl-frozen"))  # fmt: skip
    # the paper's JT pairs every source batch with a target batch; Algorithm 1 trains θ on none
    for m in METHODS:
        paired = res[m].info["schedule"]["target_batches_in_theta_loss"]
        assert paired == (3 * 8 if m in ("jt", "jt-rtn", "metaxl-joint", "metaxl-frozen") else None)
    phi = {m: res[m].info["metaxl"] for m in RTN_METHODS}
    assert phi["metaxl-joint"]["meta_steps"] == phi["metaxl"]["meta_steps"] == 3 * 8
    assert phi["metaxl-frozen"]["meta_steps"] == 0 and phi["metaxl-frozen"]["phi_change"] == 0.0
    assert phi["jt-rtn"]["phi_change"] > 0 and phi["metaxl-joint"]["phi_change"] > 0
    # ‖φ − φ₀‖_F per layer, in every record of an RTN method
    assert set(phi["metaxl-joint"]["phi_change_per_layer"]) == {"1"}
    assert phi["metaxl-joint"]["phi_change_per_layer"]["1"] == pytest.approx(phi["metaxl-joint"]["phi_change"], abs=1e-6)  # fmt: skip
    assert phi["metaxl-joint"]["bottleneck"] == 4 and phi["metaxl-joint"]["rtn"] == "residual"
    assert res["jt"].info["select_by_dev"]["selection"].startswith("best epoch on target dev")
    with pytest.raises(ValueError, match="method must be one of"):
        train_metaxl(cfg, encoders["bert"], "maml", source, target, dev, {}, mcfg)


def _ablation_runs(encoders, meta_lr: float = 1e-3, rtn: str = "residual", methods=("jt", "metaxl-frozen")):  # fmt: skip
    """JT and its MetaXL counterpart on the tiny BERT tagger with dropout on (the meta step must
    not move the dropout masks of θ's batches)."""
    source, target = tag_records(FILL_S, 48, 1), tag_records(FILL_T, 12, 2)
    dev, test = tag_records(FILL_T, 20, 3), tag_records(FILL_T, 30, 4)
    cfg = _cfg("ner", ("O", "B-PER"))
    mcfg = MetaXLConfig(layers=(1,), bottleneck=4, meta_lr=meta_lr, rtn=rtn)
    out = {}
    for m in methods:
        res = train_metaxl(cfg, encoders["bert"], m, source, target, dev, {"tt": {"dev": dev, "test": test}}, mcfg)  # fmt: skip
        out[m] = (res.scores, res.loss_curve, res.predictions, res.info)
    return out


def test_ablation_frozen_phi_gives_jt_bit_for_bit(encoders):
    """MetaXL (joint) with the meta step off runs JT's schedule exactly: same source and target
    batches in the same order, the same loss, the same dropout masks, and an RTN that is the
    identity (rtn: residual) — so the two give the same scores and losses, bit for bit, and
    MetaXL (joint) − JT is the meta-learned transformation's effect alone."""
    runs = _ablation_runs(encoders)
    jt, frozen = runs["jt"], runs["metaxl-frozen"]
    assert frozen[0] == jt[0] and frozen[1] == jt[1] and frozen[2] == jt[2]  # exact, not approx
    assert frozen[3]["select_by_dev"] == jt[3]["select_by_dev"]
    assert frozen[3]["metaxl"]["phi_change"] == 0.0
    assert jt[1][0] != jt[1][-1]  # it trained (dropout on: the test is not vacuous)


def test_ablation_meta_step_changes_theta_only_through_phi(encoders):
    """With a meta step whose φ updates are too small to change any float32 activation
    (β = 1e-30), MetaXL (joint) still equals JT bit for bit: its meta batches come from a
    stream of their own and its forward passes use a forked RNG, so θ's data, order and dropout
    masks are JT's. With the paper's RTN form the frozen arm is *not* JT (a fixed random map)."""
    runs = _ablation_runs(encoders, meta_lr=1e-30, methods=("jt", "metaxl-joint"))
    assert runs["metaxl-joint"][0] == runs["jt"][0] and runs["metaxl-joint"][1] == runs["jt"][1]
    assert runs["metaxl-joint"][3]["metaxl"]["meta_steps"] > 0
    paper = _ablation_runs(encoders, rtn="paper", methods=("metaxl-frozen",))["metaxl-frozen"]
    assert paper[1] != runs["jt"][1]


# --------------------------------------------------------------------------------------------
# analyses


def test_hausdorff_on_hand_computable_sets():
    e1, e2 = [1.0, 0.0], [0.0, 1.0]
    assert hausdorff(np.array([e1]), np.array([e2, e1])) == pytest.approx(1.0)
    assert hausdorff(np.array([e1, e2]), np.array([[1.0, 1.0]])) == pytest.approx(1 - 1 / math.sqrt(2))  # fmt: skip
    assert hausdorff(np.array([e1]), np.array([[-2.0, 0.0]])) == pytest.approx(2.0)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(37, 5)), rng.normal(size=(23, 5))
    assert hausdorff(a, a) == pytest.approx(0.0, abs=1e-12)
    assert hausdorff(a, b) == pytest.approx(hausdorff(b, a))
    ua = a / np.linalg.norm(a, axis=1, keepdims=True)
    ub = b / np.linalg.norm(b, axis=1, keepdims=True)
    d = 1 - ua @ ub.T
    brute = max(d.min(1).max(), d.min(0).max())
    assert hausdorff(a, b, chunk_elements=1) == pytest.approx(brute)  # one row per chunk
    assert hausdorff(a, b) == pytest.approx(brute)
    with pytest.raises(ValueError, match="vector sizes differ"):
        hausdorff(a, rng.normal(size=(3, 4)))


def test_pca_2d_projects_every_set_on_the_shared_plane():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(7, 4)) + 3
    pa, pb = pca_2d([a, b])
    assert pa.shape == (5, 2) and pb.shape == (7, 2)
    # points on a line: all variance on the first component
    line = np.outer(np.arange(6.0), [1.0, 2.0, 0.0])
    (p,) = pca_2d([line])
    assert np.allclose(p[:, 1], 0) and np.allclose(np.abs(np.diff(p[:, 0])), math.sqrt(5))


def test_representations_per_token_and_per_sentence(encoders):
    from transformers import AutoTokenizer

    from xlt.tasks import build_model

    tok = AutoTokenizer.from_pretrained(str(encoders["bert"]))
    recs = tag_records(FILL_S, 10, 0)
    spec = TaskSpec("ner", ("O", "B-PER"))
    model = build_model(spec, str(encoders["bert"]), 0)
    vecs = representations(model, spec, tok, recs)
    assert vecs.shape == (sum(len(r["tokens"]) for r in recs), 32)
    assert representations(model, spec, tok, recs, limit=7).shape == (7, 32)
    sents = sent_records(FILL_S, 9, 0)
    sspec = TaskSpec("classification", ("negative", "positive"), "mean")
    smodel = build_model(sspec, str(encoders["bert"]), 0)
    assert representations(smodel, sspec, tok, sents, layer=0).shape == (9, 32)
    # a whole-model call of another length first: the mean pooler must not keep its mask
    smodel(input_ids=torch.full((2, 41), 5), attention_mask=torch.ones(2, 41, dtype=torch.long))
    assert representations(smodel, sspec, tok, sents).shape == (9, 32)
    with pytest.raises(ValueError, match="layer 5 does not exist"):
        representations(smodel, sspec, tok, sents, layer=5)


def test_representations_see_the_rtn_only_when_forced(encoders):
    """The analysis compares MetaXL's *transformed* source vectors with the target's (§4.5):
    forced() turns the RTNs on in eval mode; otherwise evaluation never sees them."""
    from transformers import AutoTokenizer

    from xlt.tasks import build_model

    tok = AutoTokenizer.from_pretrained(str(encoders["bert"]))
    spec = TaskSpec("ner", ("O", "B-PER"))
    model = build_model(spec, str(encoders["bert"]), 0)
    recs = tag_records(FILL_S, 8, 0)
    plain = representations(model, spec, tok, recs)
    rtns = RTNSet(model, (1,), bottleneck=4)
    randomise(rtns)
    assert np.allclose(representations(model, spec, tok, recs), plain)  # eval: RTN off
    with rtns.forced():
        moved = representations(model, spec, tok, recs)
    assert not np.allclose(moved, plain)
    assert np.allclose(representations(model, spec, tok, recs), plain)  # forced() restored
    rtns.remove()


def test_metaxl_returns_representations_of_the_selected_model(encoders):
    source, target = tag_records(FILL_S, 40, 1), tag_records(FILL_T, 12, 2)
    dev = tag_records(FILL_T, 20, 3)
    cfg = _cfg("ner", ("O", "B-PER"))
    mcfg = MetaXLConfig(layers=(1,), bottleneck=4, meta_lr=1e-2)
    represent = {"source": (tag_records(FILL_S, 15, 5), True), "target": (dev, False)}
    res = train_metaxl(cfg, encoders["bert"], "metaxl", source, target, dev, {"tt": {"dev": dev}}, mcfg,
                       represent=represent, represent_limit=25)  # fmt: skip
    vecs = res.info["representations"]
    n_target_words = sum(len(r["tokens"]) for r in dev)
    assert vecs["source"].shape == (25, 32) and vecs["target"].shape == (
        min(25, n_target_words),
        32,
    )
    assert hausdorff(vecs["source"], vecs["target"]) > 0


# --------------------------------------------------------------------------------------------
# the tables


def test_tables_choose_beta_on_dev_per_task_and_pair_with_jt():
    """The meta learning rate is chosen once per task on mean target *dev* (not test, not per
    run); the delta table pairs each method with JT by (target, seed) and its p-value is
    scipy's paired t-test."""
    import pandas as pd
    from scipy import stats

    from xlt.studies.metaxl import report

    study = {"targets": ["de", "es"], "source": "en", "source_size": 160, "layers": [12],
             "methods": ["target-only", "jt", "metaxl-joint"], "meta_lrs": [3e-5, 1e-6],
             "related": {}, "seeds": [1, 2, 3]}  # fmt: skip
    rows = []
    jt = {("de", 1): 50, ("de", 2): 52, ("de", 3): 47, ("es", 1): 60, ("es", 2): 58, ("es", 3): 61}
    for (t, s), v in jt.items():
        base = {"target": t, "seed": s, "source": "en", "size": 160, "phi_change": math.nan, "phi0_norm": math.nan}  # fmt: skip
        rows.append(
            {**base, "method": "jt", "layers": "", "meta_lr": math.nan, "test": v, "dev": v}
        )
        rows.append({**base, "method": "target-only", "source": "", "size": 0, "layers": "", "meta_lr": math.nan, "test": 10, "dev": 10})  # fmt: skip
        # β = 3e-5: better on test, worse on dev; β = 1e-6: the dev choice
        for lr, dtest, ddev, phi in ((3e-5, 5, -1, 0.02), (1e-6, 1 + s, 2, 0.001)):
            rows.append({**base, "method": "metaxl-joint", "layers": "12", "meta_lr": lr, "test": v + dtest, "dev": v + ddev, "phi_change": phi, "phi0_norm": 8.0})  # fmt: skip
    df = pd.DataFrame(rows)
    assert report.chosen_meta_lrs(df, study) == {"metaxl-joint": 1e-6}
    main = report.main_table(df, study)
    assert list(main["method"]) == ["target only", "JT", "MetaXL (joint)", "MetaXL (joint)"]
    assert list(main["β"]) == ["–", "–", "3e-05", "1e-06 (chosen)"]
    delta = report.delta_table(df, study)
    chosen = delta[delta["β"] == "1e-06 (chosen)"].iloc[0]
    assert chosen["pairs"] == 6 and chosen["wins"] == 6 and chosen["losses"] == 0
    assert chosen["de"] == pytest.approx(3.0) and chosen["avg"] == pytest.approx(3.0)
    assert chosen["avg_sd"] == pytest.approx(1.0)  # per-seed means 2, 3, 4
    d = [1 + s for (t, s) in jt]
    assert chosen["p"] == pytest.approx(stats.ttest_rel([v + x for v, x in zip(jt.values(), d, strict=True)], list(jt.values())).pvalue)  # fmt: skip
    assert chosen["phi_change"] == pytest.approx(0.001)
    assert delta.iloc[0]["method"] == "target only" and delta.iloc[0]["de"] == pytest.approx(10 - np.mean([50, 52, 47]))  # fmt: skip
    # the main-setting Hausdorff and size tables read the chosen β only
    assert len(report.selected(df, study)) == len(df) - 6
