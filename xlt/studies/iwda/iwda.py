"""Importance-weighted domain alignment (IWDA; seed 004, methods.md §5) as hooks of the one loop.

Setting: labelled source data and *unlabelled* target task data. Two stages, both through
:func:`xlt.finetune.finetune`: (1) zero-shot fine-tuning on the source; (2) from that model, the
source loss plus λ·W₁ between importance-weighted source features and target features, where W₁ is
estimated by a critic trained inside the :class:`IWDA` hook.

- **Importance weights** w_j ≈ p_T(y=j)/p_S(y=j) under label shift (black-box shift estimation),
  as App. C.1: from the stage-1 model's *hard* source confusion matrix C_S[i, j] = P_S(ŷ=i, y=j)
  and hard predicted target distribution p̂_T(ŷ=i), the QP  min_w ‖p̂_T − C_S w‖²  subject to w ≥ 0
  and wᵀp_S = 1 (:func:`solve_weights`) gives w₀, shrunk to w(0) = (1−ρ)w₀ + ρ·1 (ρ =
  ``lambda_iw_init``). In stage 2, w = w(0) + δ: at every training step the statistics follow the
  batch's hard predictions (moving averages, ``stats_momentum``), and δ takes one **AdamW** step on
  ‖C_S w − p̂_T‖² (learning rate ``lr_iw``, decaying linearly to 0; weight decay ``lambda_iw`` on δ
  is the ξ‖w − w(0)‖² pull) and is projected so that w ≥ 0, wᵀp_S = 1
  (:class:`ImportanceWeights`). Adam's normalised step is what lets w follow the statistics: C_S's
  entries are ~1/k², so a plain gradient step on the same loss barely moves w.
  ``variant="oracle"`` uses the true target prior instead, ``variant="align"`` w ≡ 1 (alignment
  without importance weights); neither updates w.
- **Critic** (CDAN-conditioned Wasserstein-1): input = feature ⊗ predicted class distribution
  (flattened; the distribution is detached, as in CDAN), one hidden ReLU layer; W₁ ≈
  mean_S[w_y f] − mean_T[f]; zero-centred gradient penalty μ·E‖∇f(ẑ)‖² on random interpolates ẑ
  of source/target pairs; its own AdamW, one update per training step before the model's loss is
  formed; λ warms up linearly over the first ``da_warmup`` of stage 2.
- **Features**: the input of the model's classification head (the pooled [CLS]/mean vector for
  sequence tasks; for token tasks the vector of every word's *first sub-word*, on both sides).
  Token tasks run stage 2 for (avg. words per target sequence / avg. words per source sequence)
  times the source steps, as in the paper.
- **Target labels are never read**: :func:`unlabelled` keeps only the input text of target records
  (``id``, ``text``/``text_pair`` or ``tokens``) at the entry point :func:`run_iwda`; the hook
  only ever sees token ids of those copies.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xlt.studies.iwda.configs import IWDAConfig
from xlt.tasks import IGNORE, Features, bucket_batches, collate, encode
from xlt.train.loop import Batch, Hook, LoopState, autocast, cycle, move, resolve_device

log = logging.getLogger("xlt.iwda")

# ---------------------------------------------------------------- importance-weight estimation


def confusion(pred: np.ndarray, gold: np.ndarray, k: int) -> np.ndarray:
    """Hard joint confusion matrix C[i, j] = P(ŷ=i, y=j) (rows: predictions, columns: labels)."""
    c = np.zeros((k, k))
    np.add.at(c, (np.asarray(pred), np.asarray(gold)), 1.0)
    return c / max(1, len(pred))


def distribution(labels: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(np.asarray(labels), minlength=k)[:k] / max(1, len(labels))


def project(v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Euclidean projection of ``v`` onto {w ≥ 0, aᵀw = 1} (``a`` ≥ 0, some a_j > 0).

    The solution is max(0, v − τa); τ is found exactly from the sorted breakpoints v_j/a_j.
    Coordinates with a_j = 0 are only clipped at 0.
    """
    pos = a > 0
    vp, ap = v[pos], a[pos]
    order = torch.argsort(vp / ap, descending=True)
    vs, as_ = vp[order], ap[order]
    taus = (torch.cumsum(as_ * vs, 0) - 1) / torch.cumsum(as_ * as_, 0)
    active = (vs / as_) > taus  # the top-r breakpoints lie above τ_r
    r = int(torch.nonzero(active).max()) if bool(active.any()) else 0
    w = torch.clamp(v, min=0)
    w[pos] = torch.clamp(vp - taus[r] * ap, min=0)
    return w


def solve_weights(
    conf: np.ndarray,
    target_pred: np.ndarray,
    p_source: np.ndarray | None = None,
    xi: float = 0.0,
    w0: np.ndarray | None = None,
) -> np.ndarray:
    """min_w ‖p̂_T − C w‖² + ξ‖w − w₀‖²  s.t.  w ≥ 0, wᵀp_S = 1 (p_S defaults to C's column sums).

    A convex QP in k ≤ ~50 variables: SLSQP with exact gradients, then an exact projection onto
    the feasible set to remove solver round-off.
    """
    from scipy.optimize import minimize

    C, mu = np.asarray(conf, float), np.asarray(target_pred, float)
    p_s = C.sum(0) if p_source is None else np.asarray(p_source, float)
    w0 = np.ones(len(p_s)) if w0 is None else np.asarray(w0, float)
    CtC, Ctmu = C.T @ C, C.T @ mu

    def f(w):
        r = C @ w - mu
        return float(r @ r + xi * (w - w0) @ (w - w0))

    def jac(w):
        return 2 * (CtC @ w - Ctmu) + 2 * xi * (w - w0)

    res = minimize(
        f, np.ones(len(p_s)), jac=jac, method="SLSQP", bounds=[(0, None)] * len(p_s),
        constraints=[{"type": "eq", "fun": lambda w: p_s @ w - 1, "jac": lambda w: p_s}],
        options={"ftol": 1e-14, "maxiter": 1000},
    )  # fmt: skip
    w = project(torch.as_tensor(res.x, dtype=torch.float64), torch.as_tensor(p_s))
    return w.numpy()


def oracle_weights(p_source: np.ndarray, p_target: np.ndarray) -> np.ndarray:
    """True importance weights p_T(j)/p_S(j) (0 for classes absent from the source)."""
    p_s, p_t = np.asarray(p_source, float), np.asarray(p_target, float)
    return np.where(p_s > 0, p_t / np.where(p_s > 0, p_s, 1), 0.0)


@dataclass
class LabelShift:
    """Statistics of the stage-1 model and the starting importance weights of stage 2."""

    p_source: np.ndarray  # true source prior (from source labels)
    confusion: np.ndarray  # hard source confusion matrix C_S
    target_pred: np.ndarray  # hard predicted target distribution p̂_T
    w_qp: np.ndarray  # unregularised QP solution (before shrinkage)
    w_init: np.ndarray  # weights stage 2 starts from (and is pulled towards)
    updates: bool  # projected-gradient updates during stage 2 (the iwda variant only)


def label_shift(
    variant: str,
    src_pred: np.ndarray,
    src_gold: np.ndarray,
    tgt_pred: np.ndarray,
    k: int,
    shrink: float = 0.25,
    target_prior: Sequence[float] | None = None,
) -> LabelShift:
    """Starting weights of stage 2 from hard predictions (source: with gold labels)."""
    conf, p_t_hat = confusion(src_pred, src_gold, k), distribution(tgt_pred, k)
    p_s = distribution(src_gold, k)
    w_qp = solve_weights(conf, p_t_hat, p_s)
    if variant == "oracle":
        if target_prior is None:
            raise ValueError("iwda.variant: oracle needs the true target prior (target_prior=)")
        w = oracle_weights(p_s, np.asarray(target_prior, float))
    elif variant == "align":
        w = np.ones(k)
    else:
        w = (1 - shrink) * w_qp + shrink * np.ones(k)
    return LabelShift(p_s, conf, p_t_hat, w_qp, w, variant == "iwda")


# --------------------------------------------------------------------------------- the critic


def cdan_input(z: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """Flattened outer product feature ⊗ class distribution: (n, d), (n, k) → (n, d·k)."""
    return (z.unsqueeze(2) * probs.unsqueeze(1)).flatten(1)


class Critic(torch.nn.Module):
    """A one-hidden-layer ReLU network scoring (conditioned) features."""

    def __init__(self, dim: int, hidden: int = 2048):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def wasserstein(
    critic: torch.nn.Module, hs: torch.Tensor, ht: torch.Tensor, ws: torch.Tensor | None = None
) -> torch.Tensor:
    """W₁ estimate mean_S[w·f] − mean_T[f] (w: per-source-example importance weights)."""
    fs = critic(hs)
    return (fs if ws is None else ws * fs).mean() - critic(ht).mean()


def gradient_penalty(
    critic: torch.nn.Module, hs: torch.Tensor, ht: torch.Tensor, generator=None
) -> torch.Tensor:
    """Zero-centred penalty E‖∇f(ẑ)‖² at random points ẑ between source/target pairs."""
    n = min(len(hs), len(ht))
    alpha = torch.rand(n, 1, device=hs.device, dtype=hs.dtype, generator=generator)
    z = (hs[:n] + alpha * (ht[:n] - hs[:n])).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(z).sum(), z, create_graph=True)
    return grad.pow(2).sum(1).mean()


# ------------------------------------------------------------------------- data and features


@functools.lru_cache(maxsize=4)
def load_tokenizer(encoder_dir: str):
    """The encoder's tokenizer, loaded once per process (a job loads it for every variant, level
    and analysis; multilingual-e5-small's takes seconds)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(encoder_dir)


def read_unlabelled(path: str | Path, token_level: bool) -> list[dict]:
    """The input text of a target split, labels dropped as each line is read (whatever they hold);
    a record without its text stops with the file and line."""
    from xlt.io import DataError, iter_jsonl

    need = "tokens" if token_level else "text"
    out = []
    for lineno, rec in iter_jsonl(path):
        if not isinstance(rec, Mapping) or need not in rec or "id" not in rec:
            raise DataError(path, lineno, f"an unlabelled record needs 'id' and {need!r}", "fix or drop the line")  # fmt: skip
        out.append(unlabelled([rec], token_level)[0])
    return out


def unlabelled(records: Iterable[Mapping], token_level: bool) -> list[dict]:
    """Copies of target task records with only their input text: labels are never read."""
    keep = ("id", "tokens") if token_level else ("id", "text", "text_pair")
    return [{k: r[k] for k in keep if k in r} for r in records]


def aligned_batch(feats: Features, idx: np.ndarray, pad_id: int, token_level: bool) -> Batch:
    """A collated batch plus, for token tasks, ``align_mask`` marking every word's first sub-word."""
    batch = collate(feats, idx, pad_id)
    if token_level:
        mask = torch.zeros_like(batch["attention_mask"], dtype=torch.bool)
        for row, i in enumerate(idx):
            mask[row, feats.first_pos[i]] = True
        batch["align_mask"] = mask
    return batch


def target_batches(feats: Features, batch_size: int, pad_id: int, token_level: bool, seed: int):
    """Unlabelled target batches (no ``labels`` key), reshuffled every pass."""

    def batches(epoch: int) -> Iterator[Batch]:
        rng = np.random.default_rng([seed, 7919, epoch])
        for idx in bucket_batches(feats.lengths, batch_size, rng):
            batch = aligned_batch(feats, idx, pad_id, token_level)
            del batch["labels"]
            yield batch

    return batches


class FeatureTap:
    """Records the input (features z) and output (logits) of the model's classification head."""

    def __init__(self, model: torch.nn.Module, token_level: bool):
        head = getattr(model, "classifier", None)
        if head is None:
            raise ValueError(
                f"IWDA needs a model with a `classifier` head (a *ForSequenceClassification or "
                f"*ForTokenClassification model); {type(model).__name__} has none"
            )
        self.token_level = token_level
        self.z: torch.Tensor | None = None
        self.logits: torch.Tensor | None = None
        self.handle = head.register_forward_hook(self._record)

    def _record(self, _module, args, output) -> None:
        z = args[0]
        self.z = z[:, 0] if (not self.token_level and z.ndim == 3) else z
        self.logits = output

    def remove(self) -> None:
        self.handle.remove()


@torch.no_grad()
def hard_predictions(
    model, feats: Features, pad_id: int, token_level: bool, batch_size: int, device,
    precision: str = "fp32",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Per aligned unit (sequence, or word's first sub-word): predicted id, label id (IGNORE where
    the records had none) and the feature vector, the forward in ``precision`` (the one the model
    trained in: finetune.precision)."""
    if len(feats) == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros((0, 0), np.float32)
    was_training = model.training
    model.eval()
    tap = FeatureTap(model, token_level)
    preds, golds, zs = [], [], []
    try:
        for idx in bucket_batches(feats.lengths, batch_size):
            batch = aligned_batch(feats, idx, pad_id, token_level)
            labels, mask = batch.pop("labels"), batch.pop("align_mask", None)
            with autocast(device, precision):
                logits = model(**move(batch, device)).logits.float().cpu()
            z = tap.z.float().cpu()
            if token_level:
                logits, labels, z = logits[mask], labels[mask], z[mask]
            preds.append(logits.argmax(-1))
            golds.append(labels)
            zs.append(z)
    finally:
        tap.remove()
        model.train(was_training)
    return torch.cat(preds).numpy(), torch.cat(golds).numpy(), torch.cat(zs).numpy()


def token_step_scale(source: Features, target: Features) -> float:
    """Average words per target sequence / average words per source sequence (paper, App. C.2)."""
    return float(np.mean(target.n_words) / max(1e-9, np.mean(source.n_words)))


# ------------------------------------------------------------------ the weights during stage 2


class ImportanceWeights:
    """w = w(0) + δ during stage 2, updated at every step as App. C.1 (the paper's fixes 1–3).

    Each :meth:`update` folds one batch's hard statistics into moving averages of the source
    confusion matrix C_S and the target prediction distribution p̂_T (momentum
    ``cfg.stats_momentum``), then takes one AdamW step on δ for ‖C_S w − p̂_T‖² (learning rate
    ``cfg.lr_iw`` decaying linearly to 0 over ``total`` steps; weight decay ``cfg.lambda_iw``
    pulls δ to 0, i.e. w to w(0)) and projects w onto {w ≥ 0, wᵀp_S = 1}. Weights that do not
    update (``shift.updates`` false: alignment, oracle) stay at w(0).
    """

    def __init__(self, shift: LabelShift, cfg: IWDAConfig, total: int, device=None):
        f32 = {"dtype": torch.float32, "device": device}
        self.cfg, self.total, self.updates, self.steps = cfg, max(1, total), shift.updates, 0
        self.w0 = torch.as_tensor(shift.w_init, **f32)
        self.p_s = torch.as_tensor(shift.p_source, **f32)
        self.C = torch.as_tensor(shift.confusion, **f32).clone()
        self.mu = torch.as_tensor(shift.target_pred, **f32).clone()
        self.delta = torch.zeros_like(self.w0, requires_grad=True)
        self.opt = torch.optim.AdamW([self.delta], lr=cfg.lr_iw, weight_decay=cfg.lambda_iw)

    @property
    def w(self) -> torch.Tensor:
        return (self.w0 + self.delta).detach()

    def loss(self) -> torch.Tensor:
        return (self.C @ (self.w0 + self.delta) - self.mu).pow(2).sum()

    def update(self, src_pred: torch.Tensor, src_gold: torch.Tensor, tgt_pred: torch.Tensor) -> torch.Tensor:  # fmt: skip
        """One step from hard predicted/gold class ids of a source batch and hard predicted ids of
        a target batch; returns the new w."""
        if not self.updates:
            return self.w
        k, m, dev = len(self.w0), self.cfg.stats_momentum, self.C.device
        c_batch = torch.zeros(k, k, device=dev)
        c_batch.index_put_((src_pred.to(dev), src_gold.to(dev)), torch.ones(len(src_gold), device=dev), accumulate=True)  # fmt: skip
        mu_batch = torch.bincount(tgt_pred.to(dev), minlength=k)[:k].float()
        self.C.mul_(m).add_(c_batch / max(1, len(src_gold)), alpha=1 - m)
        self.mu.mul_(m).add_(mu_batch / max(1, len(tgt_pred)), alpha=1 - m)
        for group in self.opt.param_groups:
            group["lr"] = self.cfg.lr_iw * max(0.0, 1 - self.steps / self.total)
        with torch.enable_grad():
            self.opt.zero_grad(set_to_none=True)
            self.loss().backward()
            self.opt.step()
        with torch.no_grad():
            self.delta.copy_(project(self.w0 + self.delta, self.p_s) - self.w0)
        self.steps += 1
        return self.w


def weights_positive_control(
    tv: float, steps: int = 2000, *, k: int = 3, batch_size: int = 16, n_init: int = 2000,
    noise: float = 0.6, seed: int = 0, cfg: IWDAConfig | None = None, tolerance: float = 0.1,
) -> dict[str, Any]:  # fmt: skip
    """The weight estimator alone, on fixed features and a fixed classifier (a positive control).

    Features: 2-D Gaussians (sd ``noise``) around ``k`` class means on the unit circle; the
    classifier: nearest mean (linear, fixed). Source prior uniform, target prior shifted towards
    class 0 by total variation ``tv`` (true weights known). As in stage 2: statistics of
    ``n_init`` source and target draws give w(0) (QP, shrunk by ``cfg.lambda_iw_init``), then
    ``steps`` :meth:`ImportanceWeights.update` calls on fresh batches of ``batch_size`` per
    domain. Returns the true weights, w(0), the final w and their ℓ1 distances (the distance every
    100 steps, and the first of those steps within ``tolerance``), with App. C's hyper-parameters
    unless ``cfg``."""
    from .prior_shift import shifted_prior

    cfg = cfg or IWDAConfig()
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * np.arange(k) / k
    means = np.stack([np.cos(angle), np.sin(angle)], 1)
    p_s = np.full(k, 1 / k)
    p_t = shifted_prior(p_s, tv, np.eye(k)[0])
    true = oracle_weights(p_s, p_t)

    def draw(prior: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.choice(k, n, p=prior)
        z = means[y] + rng.normal(0, noise, (n, 2))
        return (z @ means.T).argmax(1), y

    sp, sy = draw(p_s, n_init)
    tp, _ = draw(p_t, n_init)
    shift = label_shift("iwda", sp, sy, tp, k, cfg.lambda_iw_init)
    iw = ImportanceWeights(shift, cfg, steps)
    l1 = lambda w: float(np.abs(np.asarray(w, float) - true).sum())  # noqa: E731
    trace, worst = [(0, l1(iw.w))], float(np.abs(iw.w.numpy() - 1).max())
    for step in range(1, steps + 1):
        (a, b), (c, _) = draw(p_s, batch_size), draw(p_t, batch_size)
        w = iw.update(torch.as_tensor(a), torch.as_tensor(b), torch.as_tensor(c))
        worst = max(worst, float((w - 1).abs().max()))
        if step % 100 == 0 or step == steps:
            trace.append((step, l1(w)))
    r = lambda xs: [round(float(x), 4) for x in xs]  # noqa: E731
    return {
        "tv": tv, "steps": steps, "batch_size": batch_size, "classes": k,
        "classifier_accuracy": round(float(np.mean(sp == sy)), 4),
        "true": r(true), "p_source": r(shift.p_source), "w_qp": r(shift.w_qp), "w_init": r(shift.w_init), "w_final": r(iw.w),
        "l1_init": round(l1(shift.w_init), 4), "l1_final": round(l1(iw.w), 4),
        "max_abs_w_minus_1": round(worst, 4), "l1_every_100": [(s, round(v, 4)) for s, v in trace],
        "tolerance": tolerance, "first_step_within": next((s for s, v in trace if v <= tolerance), None),
        "lr_iw": cfg.lr_iw, "lambda_iw": cfg.lambda_iw, "lambda_iw_init": cfg.lambda_iw_init,
        "stats_momentum": cfg.stats_momentum,
    }  # fmt: skip


# ---------------------------------------------------------------------------------- the hook


def trajectory_stride(total: int, log_every: int) -> int:
    """Steps between recorded weights: every step for runs up to 200 steps, else every log step
    (every log step is recorded either way)."""
    return 1 if total <= 200 else log_every


class IWDA(Hook):
    """Stage 2 of IWDA: critic update, λ·W₁ on the model's loss, importance-weight update."""

    def __init__(
        self,
        target: Callable[[int], Iterable[Batch]],
        cfg: IWDAConfig,
        shift: LabelShift,
        token_level: bool,
        steps: int | None = None,
        seed: int = 0,
    ):
        self.target_factory, self.cfg, self.token_level = target, cfg, token_level
        self.steps, self.seed = steps, seed
        self.shift = shift
        self.critic: Critic | None = None
        self.history: dict[str, list] = {"w1": [], "gp": [], "lambda": [], "w_steps": [], "w": []}  # fmt: skip

    def on_train_start(self, state: LoopState) -> None:
        dev = state.device
        self.total = min(self.steps or state.total_steps, state.total_steps)
        self.tap = FeatureTap(state.model, self.token_level)
        self.target = cycle(self.target_factory, "iwda: the unlabelled target set")
        self.weights = ImportanceWeights(self.shift, self.cfg, self.total, dev)
        self.stride = trajectory_stride(self.total, state.cfg.log_every)
        self._record_w(0)
        self.gen = torch.Generator(device=dev).manual_seed(self.seed)

    @property
    def w(self) -> torch.Tensor:
        return self.weights.w

    def _record_w(self, step: int) -> None:
        self.history["w_steps"].append(step)
        self.history["w"].append([round(float(x), 5) for x in self.w.cpu()])

    def _critic(self, dim: int, device) -> Critic:
        if self.critic is None:
            torch.manual_seed(self.seed)
            self.critic = Critic(dim, self.cfg.critic_hidden).to(device)
            self.opt = torch.optim.AdamW(
                self.critic.parameters(), lr=self.cfg.critic_lr,
                weight_decay=self.cfg.critic_weight_decay,
            )  # fmt: skip
        return self.critic

    def extra_loss(self, state: LoopState, batch: Batch, loss: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        zs, ls, ys = self.tap.z, self.tap.logits, batch["labels"]  # from the source forward pass
        if self.token_level:
            keep = ys != IGNORE
            zs, ls, ys = zs[keep], ls[keep], ys[keep]
        tb = move(next(self.target), state.device)
        mask = tb.pop("align_mask", None)
        state.model(**tb)
        zt, lt = self.tap.z, self.tap.logits
        if self.token_level:
            zt, lt = zt[mask], lt[mask]
        if len(ys) == 0 or len(zt) == 0:
            return loss
        with torch.autocast(state.device.type, enabled=False):
            hs = cdan_input(zs.float(), ls.float().softmax(-1).detach())
            ht = cdan_input(zt.float(), lt.float().softmax(-1).detach())
            ws = self.w[ys]
            critic = self._critic(hs.shape[1], state.device)
            for _ in range(cfg.critic_steps):
                hsd, htd = hs.detach(), ht.detach()
                gp = gradient_penalty(critic, hsd, htd, self.gen)
                critic_loss = -(wasserstein(critic, hsd, htd, ws) - cfg.lambda_gp * gp)
                self.opt.zero_grad(set_to_none=True)
                critic_loss.backward()
                self.opt.step()
            self.opt.zero_grad(set_to_none=True)  # the model's backward leaves grads here too
            w1 = wasserstein(critic, hs, ht, ws)
        warm = max(1, int(cfg.da_warmup * self.total))
        lam = cfg.lambda_da * min(1.0, (state.step + 1) / warm)
        self.weights.update(ls.detach().argmax(-1), ys, lt.detach().argmax(-1))
        last = state.step + 1 >= self.total
        if (state.step + 1) % self.stride == 0 or last:
            self._record_w(state.step + 1)
        if state.step % state.cfg.log_every == 0 or last:
            self.history["w1"].append(float(w1.detach()))
            self.history["gp"].append(float(gp.detach()))
            self.history["lambda"].append(lam)
        return loss + lam * w1

    def on_step_end(self, state: LoopState) -> None:
        if state.step >= self.total:
            state.stop = True

    def on_train_end(self, state: LoopState) -> None:
        self.tap.remove()
        state.extra["iwda"] = self.summary()

    def summary(self) -> dict[str, Any]:
        r = lambda xs: [round(float(x), 4) for x in xs]  # noqa: E731
        return {
            "variant": self.cfg.variant,
            "steps": self.total,
            "w_qp": r(self.shift.w_qp),
            "w_init": r(self.shift.w_init),
            "w_final": r(self.w.cpu()),
            "p_source": r(self.shift.p_source),
            "target_pred": r(self.shift.target_pred),
            "w_trajectory": {"steps": list(self.history["w_steps"]), "w": list(self.history["w"])},
            "w1": r(self.history["w1"]),
            "gp": r(self.history["gp"]),
        }


# ----------------------------------------------------------------------------- entry points


@dataclass
class IWDARun:
    result: Any  # CandidateResult of stage 2
    stage1: Any  # CandidateResult of stage 1 (None when a stage-1 model was given)
    shift: LabelShift
    info: dict[str, Any] = field(default_factory=dict)


def run_iwda(
    cfg,
    icfg: IWDAConfig,
    encoder_dir: str | Path,
    source: Sequence[Mapping],
    target: Sequence[Mapping],
    evals: Mapping[str, Mapping[str, Sequence[Mapping]]],
    *,
    model=None,
    target_prior: Sequence[float] | None = None,
    stats: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> IWDARun:
    """Stage 1 (zero-shot fine-tuning with ``cfg``, skipped when ``model`` is given) then stage 2.

    ``target``: the target language's task records; only their text is kept (:func:`unlabelled`)
    before anything else happens. ``target_prior`` (the oracle variant only): the true class prior.
    A given stage-1 ``model`` is trained further in place. ``stats``: the given model's
    :func:`stage1_statistics` on ``source`` and ``target`` when already computed (variants from
    one stage-1 model share them).
    """
    from xlt.finetune import finetune

    spec, token = cfg.spec, cfg.spec.token_level
    target = unlabelled(target, token)  # the only place target records are touched
    stage1 = None
    if model is None:
        stage1 = finetune(cfg, encoder_dir, source, {})
        model = stage1.model
    tok = load_tokenizer(str(encoder_dir))
    src, tgt = encode(spec, tok, source, cfg.max_length), encode(spec, tok, target, cfg.max_length)
    if len(tgt) == 0:
        raise ValueError("iwda: no unlabelled target examples; give the target an unlabelled split")
    device = resolve_device(cfg.device)
    model.to(device)
    if stats is None:
        stats = hard_statistics(model, src, tgt, tok.pad_token_id, token, cfg.eval_batch_size, device, cfg.precision_info()["used"])  # fmt: skip
    sp, sg, tp = stats
    shift = label_shift(icfg.variant, sp, sg, tp, len(spec.labels), icfg.lambda_iw_init, target_prior)  # fmt: skip
    per_epoch = len(bucket_batches(src.lengths, cfg.batch_size))
    scale = token_step_scale(src, tgt) if token else 1.0
    steps = max(1, round(per_epoch * icfg.epochs * scale))
    cfg2 = replace(cfg, epochs=math.ceil(steps / per_epoch), lr=cfg.lr if icfg.lr is None else icfg.lr)  # fmt: skip
    tbs = cfg.batch_size if icfg.target_batch_size is None else icfg.target_batch_size
    hook = IWDA(target_batches(tgt, tbs, tok.pad_token_id, token, cfg.seed), icfg, shift, token, steps, cfg.seed)  # fmt: skip
    result = finetune(cfg2, encoder_dir, source, evals, hooks=[hook], model=model)
    info = hook.summary() | {"step_scale": round(scale, 4)}
    result.info["iwda"] = info
    log.info("iwda (%s): %d steps, w %s -> %s", icfg.variant, steps, info["w_init"], info["w_final"])  # fmt: skip
    return IWDARun(result, stage1, shift, info)


def hard_statistics(
    model, src: Features, tgt: Features, pad_id: int, token_level: bool, batch_size: int, device,
    precision: str = "fp32",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """What label-shift estimation reads of a model: hard predicted and gold ids of the labelled
    source units, hard predicted ids of the (unlabelled) target units."""
    sp, sg, _ = hard_predictions(model, src, pad_id, token_level, batch_size, device, precision)
    tp, _, _ = hard_predictions(model, tgt, pad_id, token_level, batch_size, device, precision)
    keep = sg != IGNORE
    return sp[keep], sg[keep], tp


def stage1_statistics(
    cfg, encoder_dir: str | Path, model, source: Sequence[Mapping], target: Sequence[Mapping]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`hard_statistics` of a fine-tuned ``model`` on ``source`` and the text of ``target``
    (either may be empty: its arrays are then empty)."""
    spec, token = cfg.spec, cfg.spec.token_level
    tok = load_tokenizer(str(encoder_dir))
    empty = Features([], [], [], [], [], kind=spec.kind)
    src = encode(spec, tok, source, cfg.max_length) if source else empty
    tgt = encode(spec, tok, unlabelled(target, token), cfg.max_length) if target else empty
    device = resolve_device(cfg.device)
    model.to(device)
    return hard_statistics(model, src, tgt, tok.pad_token_id, token, cfg.eval_batch_size, device, cfg.precision_info()["used"])  # fmt: skip


def unit_features(
    model, spec, tokenizer, records: Sequence[Mapping], cfg
) -> tuple[np.ndarray, ...]:
    """(predictions, gold label ids, features) per unit of labelled ``records`` (analysis only)."""
    feats = encode(spec, tokenizer, records, cfg.max_length)
    device = resolve_device(cfg.device)
    model.to(device)
    pred, gold, z = hard_predictions(model, feats, tokenizer.pad_token_id, spec.token_level, cfg.eval_batch_size, device, cfg.precision_info()["used"])  # fmt: skip
    keep = gold != IGNORE
    return pred[keep], gold[keep], z[keep]
