"""MetaXL (seed 001, Xia et al.; methods.md §2): meta representation transformation as hooks of
the one training loop.

A representation transformation network (RTN, :class:`RTN`) sits after chosen layers of the
encoder and transforms the hidden states of *source* examples only, at training time only
(:class:`RTNSet`). The loop's batches are source batches; per step:

1. the loop computes the source loss L_s(θ, φ) through the RTN;
2. with a paired target (:class:`PairTarget`: JT, JT w/ RTN, MetaXL (joint) and its ablation)
   one target batch joins θ's loss, RTN off: (L_s + L_t) / 2, as the authors' JT
   (``step_gold_mix``) does;
3. :class:`MetaXLStep` (``mode="metaxl"``) takes θ' = θ − α ∇θ L(θ, φ) of that loss, kept
   differentiable w.r.t. φ, runs a target batch of its *own* stream through θ'
   (``torch.func.functional_call``, RTN off) and computes ∇φ L_t(θ');
4. the loop updates θ (its own AdamW, which never sees φ);
5. the hook applies the meta gradient to φ with its own Adam (meta learning rate).

Both updates use θ(t) and φ(t), as in the paper's Algorithm 1; α defaults to the loop's current
learning rate (as the authors' code does). φ lives outside ``model.parameters()`` (the RTNs are not
submodules of the model), so ``make_optimizer``, gradient clipping and ``save_pretrained`` never
see it; the RTNs are discarded after training.

The methods (:data:`METHODS`), all through :func:`train_metaxl`, each keeping the epoch with the
best target dev score (:class:`SelectByDev`):

- ``target-only``: the target examples alone;
- ``jt``: the paper's joint training: per step one source and one target batch, (L_s + L_t) / 2;
- ``jt-concat``: source ∪ target as one training set (the target is ~1/6 of every epoch at 100
  target and 500 source examples, where ``jt`` pairs every source batch with a target batch);
- ``jt-rtn``: ``jt`` with the RTN on the source batches, φ trained jointly with θ by ordinary
  training (the capacity control "JT w/ RTN");
- ``metaxl``: Algorithm 1 as printed: θ trains on the transformed source only, the target batches
  only drive φ's meta loss;
- ``metaxl-joint``: ``jt``'s schedule (the same source and target batches, in the same order)
  with the RTN on the source batches and the meta step on φ: the authors' released code trains θ
  on the target too;
- ``metaxl-frozen``: ``metaxl-joint`` with the meta step off (φ stays at φ₀). With the identity-
  start RTN (``rtn: residual``) it computes exactly what ``jt`` computes, so
  ``metaxl-joint − jt`` is the meta-learned transformation's effect alone (a test asserts the two
  give the same scores bit for bit).

The meta step never perturbs θ's training: its target batches come from a stream of their own,
its forward passes run under a forked RNG (dropout masks of θ's batches are those of ``jt``), and
every method of the study runs eager attention (the meta step's double backward has no fused
kernel; one kernel for all arms keeps their arithmetic the same).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.func import functional_call

from xlt.analysis.shift import representations
from xlt.metrics import MAIN_METRIC, scores
from xlt.tasks import TaskSpec, encode, gold_answers, predict
from xlt.train.loop import Batch, Hook, LoopState, LossFn, cycle, default_loss, move

log = logging.getLogger("xlt.metaxl")

RTN_FORMS = ("residual", "paper", "authors")
MODES = ("metaxl", "jt-rtn", "frozen")  # how φ trains: meta step, jointly with θ, not at all
METHODS = ("target-only", "jt", "jt-concat", "jt-rtn", "metaxl", "metaxl-joint", "metaxl-frozen")
PAIRED = ("jt", "jt-rtn", "metaxl-joint", "metaxl-frozen")  # one target batch per source batch
RTN_METHODS = ("jt-rtn", "metaxl", "metaxl-joint", "metaxl-frozen")
MODE_OF = {"jt-rtn": "jt-rtn", "metaxl": "metaxl", "metaxl-joint": "metaxl", "metaxl-frozen": "frozen"}  # fmt: skip
PAIR_STREAM, META_STREAM = 1, 2  # seed offsets of the paired and the meta target streams


# --------------------------------------------------------------------------------------------
# the representation transformation network


class RTN(torch.nn.Module):
    """g_φ(h) = W₂ᵀ ReLU(W₁ᵀ h + b₁) + b₂ with W₁ ∈ R^{d×r}, W₂ ∈ R^{r×d}, bottleneck r < d.

    ``form`` (:data:`RTN_FORMS`), W₁ always Xavier-normal, b₁ = b₂ = 0:

    - ``residual``: h + g_φ(h) with W₂ = 0, i.e. the identity at the start: source examples see
      the encoder's representations unchanged until the meta gradient grows the transformation
      (and with φ frozen the RTN changes nothing: the meta-step ablation equals JT exactly);
    - ``paper``: g_φ(h), W₂ Xavier-normal: the paper's §2.2 (φ initialised randomly, the RTN's
      output replaces h);
    - ``authors``: h + g_φ(stop-gradient(h)), W₂ Xavier-normal: the authors' released code
      (``meta_net(h.detach()) + h``), a random perturbation of h at the start whose Jacobian θ's
      gradient never sees.
    """

    def __init__(self, dim: int, bottleneck: int, form: str = "residual", seed: int = 0):
        super().__init__()
        if form not in RTN_FORMS:
            raise ValueError(f"metaxl.rtn must be one of {RTN_FORMS}, got {form!r}")
        if not 1 <= bottleneck < dim:
            raise ValueError(
                f"metaxl.bottleneck: {bottleneck} is not below the encoder's width {dim}; the "
                f"paper's RTN compresses (r < d): use at most {dim - 1}, e.g. {max(1, dim // 2)}"
            )
        self.down = torch.nn.Linear(dim, bottleneck)
        self.up = torch.nn.Linear(bottleneck, dim)
        self.form = form
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            torch.nn.init.xavier_normal_(self.down.weight, generator=gen)
            self.down.bias.zero_()
            if form == "residual":
                self.up.weight.zero_()
            else:
                torch.nn.init.xavier_normal_(self.up.weight, generator=gen)
            self.up.bias.zero_()

    def g(self, h: torch.Tensor) -> torch.Tensor:
        return self.up(torch.relu(self.down(h)))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.form == "paper":
            return self.g(h)
        return h + self.g(h.detach() if self.form == "authors" else h)


class RTNSet:
    """RTNs after layers of a Hugging Face BERT/XLM-R-family encoder, attached by forward hooks.

    Layer ``0`` is the embeddings' output, ``i`` the output of encoder layer ``i``, ``N`` (or
    ``-1``) the last layer. The RTNs act only while :attr:`active` is set *and* the model is in
    training mode, so evaluation (``model.eval()``) never sees them; target batches run inside
    :meth:`off`. ``bottleneck`` None: d/2.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        layers: Sequence[int],
        bottleneck: int | None = None,
        *,
        form: str = "residual",
        seed: int = 0,
    ):
        base = model.base_model
        blocks = base.encoder.layer
        depth = len(blocks)
        dim = int(model.config.hidden_size)
        self.layers = resolve_layers(layers, depth)
        r = bottleneck or max(1, dim // 2)
        self.rtns = torch.nn.ModuleDict({str(i): RTN(dim, r, form, seed + i) for i in self.layers})
        p = next(model.parameters())
        self.rtns.to(p.device, p.dtype)
        self.active = True
        self.force = False  # True: act in eval mode too (representation analysis, see forced())
        self._handles = [
            (base.embeddings if i == 0 else blocks[i - 1]).register_forward_hook(self._hook(str(i)))
            for i in self.layers
        ]

    def parameters(self) -> list[torch.nn.Parameter]:
        return list(self.rtns.parameters())

    def to(self, device: torch.device | str) -> RTNSet:
        self.rtns.to(device)
        return self

    @contextlib.contextmanager
    def off(self) -> Iterator[None]:
        """The RTNs are skipped inside this block (target batches)."""
        prev, self.active = self.active, False
        try:
            yield
        finally:
            self.active = prev

    @contextlib.contextmanager
    def forced(self) -> Iterator[None]:
        """The RTNs act inside this block even in eval mode: the *transformed* source
        representations that MetaXL's analysis compares with the target's (paper §4.5)."""
        prev, self.force = self.force, True
        try:
            yield
        finally:
            self.force = prev

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _hook(self, key: str) -> Callable:
        def hook(module: torch.nn.Module, _args, output):
            if not (self.active and (module.training or self.force)):
                return None
            h = output[0] if isinstance(output, tuple) else output
            new = self.rtns[key](h)
            return (new, *output[1:]) if isinstance(output, tuple) else new

        return hook


def resolve_layers(layers: Sequence[int], depth: int) -> tuple[int, ...]:
    """Layer indices in 0..depth (``-1`` = ``depth``), sorted; a clear error for the rest."""
    if not layers:
        raise ValueError("metaxl.layers: give at least one layer index (0 = embeddings output)")
    out = set()
    for i in layers:
        j = depth if i == -1 else int(i)
        if not 0 <= j <= depth:
            raise ValueError(
                f"metaxl.layers: layer index {i} is beyond the encoder's depth; valid indices are "
                f"0..{depth} (0 = embeddings output, {depth} = last layer) or -1 for the last layer"
            )
        out.add(j)
    return tuple(sorted(out))


# --------------------------------------------------------------------------------------------
# config


@dataclass(frozen=True)
class MetaXLConfig:
    layers: tuple[int, ...] = (-1,)  # RTN placements: 0 = embeddings … N = last (-1 = last)
    bottleneck: int | None = None  # r < d; None: d // 2 (the paper's 384 of 768 for NER)
    meta_lr: float = 3e-5  # β: learning rate of φ's Adam (paper tunes 3e-5, 1e-6, 1e-7)
    inner_lr: float | None = None  # α of θ' = θ − α∇θL; None: the loop's current (scheduled) lr
    meta_betas: tuple[float, float] = (0.9, 0.999)
    meta_weight_decay: float = 0.0
    target_batch_size: int | None = None  # None: the main batch size
    rtn: str = "residual"  # residual | paper | authors (see RTN)
    mode: str = "metaxl"  # how φ trains (MODES): metaxl | jt-rtn | frozen

    def __post_init__(self) -> None:
        if not self.meta_lr > 0:
            raise ValueError(
                f"metaxl.meta_lr must be > 0, got {self.meta_lr}; the paper tunes it in "
                "{3e-5, 1e-6, 1e-7}"
            )
        if self.inner_lr is not None and not self.inner_lr > 0:
            raise ValueError(f"metaxl.inner_lr must be > 0 (or unset for the main lr), got {self.inner_lr}")  # fmt: skip
        if self.bottleneck is not None and self.bottleneck < 1:
            raise ValueError(f"metaxl.bottleneck must be >= 1 (or unset for hidden/2), got {self.bottleneck}")  # fmt: skip
        if self.mode not in MODES:
            raise ValueError(f"metaxl.mode must be one of {MODES}, got {self.mode!r}")
        if self.rtn not in RTN_FORMS:
            raise ValueError(f"metaxl.rtn must be one of {RTN_FORMS}, got {self.rtn!r}")
        if not self.layers:
            raise ValueError("metaxl.layers: give at least one layer index (0 = embeddings output)")
        if any(i < -1 for i in self.layers):
            raise ValueError(f"metaxl.layers: indices are 0..N or -1 (last layer), got {list(self.layers)}")  # fmt: skip
        if self.target_batch_size is not None and self.target_batch_size < 1:
            raise ValueError(f"metaxl.target_batch_size must be >= 1, got {self.target_batch_size}")  # fmt: skip


# --------------------------------------------------------------------------------------------
# the bi-level step


def eager_attention(model: torch.nn.Module) -> str | None:
    """Switch a Hugging Face model to eager attention (the fused SDPA kernels, CPU flash
    attention included, have no double backward); returns the previous setting, or None when
    nothing changed."""
    config = getattr(model, "config", None)
    prev = getattr(config, "_attn_implementation", None)
    if prev in (None, "eager"):
        return None
    model.set_attn_implementation("eager")  # type: ignore[operator]
    return prev


class _Fast:
    """The model called with the parameters ``params`` (``torch.func.functional_call``)."""

    def __init__(self, model: torch.nn.Module, params: Mapping[str, torch.Tensor]):
        self.model, self.params = model, params

    def __call__(self, **batch):
        return functional_call(self.model, dict(self.params), (), batch)


def meta_gradient(
    model: torch.nn.Module,
    rtns: RTNSet,
    source_loss: torch.Tensor,
    target_batch: Batch,
    alpha: float,
    loss_fn: LossFn = default_loss,
    retain_graph: bool = False,
    source_grads: list[torch.Tensor | None] | None = None,
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """∇φ L_tgt(θ − α ∇θ L_src(θ, φ)) and L_tgt, for ``source_loss`` = L_src(θ, φ) computed
    through the RTNs. ``retain_graph`` keeps the source graph for a later ``backward``; a list
    passed as ``source_grads`` receives ∇θ L_src (detached, in ``named_parameters`` order of the
    trainable parameters)."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    grads = torch.autograd.grad(
        source_loss, [p for _, p in named], create_graph=True, allow_unused=True
    )
    if source_grads is not None:
        source_grads[:] = [None if g is None else g.detach() for g in grads]
    fast = {n: p if g is None else p - alpha * g for (n, p), g in zip(named, grads, strict=True)}
    with rtns.off():
        target_loss = loss_fn(_Fast(model, fast), target_batch)  # type: ignore[arg-type]
    phi = rtns.parameters()
    meta = torch.autograd.grad(target_loss, phi, allow_unused=True, retain_graph=retain_graph)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(phi, meta, strict=True)], target_loss  # fmt: skip


def _rng_devices(device: torch.device) -> list[int]:
    return [device.index or 0] if device.type == "cuda" else []


class PairTarget(Hook):
    """The paper's joint training (the authors' ``step_gold_mix``): every loop batch (a source
    batch) is paired with the next batch of an endless target stream, and θ's loss becomes
    (L_s + L_t) / 2. The target batch runs with the RTNs off."""

    def __init__(self, target_batches: Callable[[int], Iterable[Batch]], rtns: RTNSet | None = None, loss_fn: LossFn = default_loss):  # fmt: skip
        self.target_batches, self.rtns, self.loss_fn = target_batches, rtns, loss_fn
        self.pairs = 0

    def on_train_start(self, state: LoopState) -> None:
        self.stream = cycle(self.target_batches, "joint training: the target training set")

    def extra_loss(self, state: LoopState, batch: Batch, loss: torch.Tensor) -> torch.Tensor:
        if not state.model.training:
            return loss
        target = move(next(self.stream), state.device)
        with self.rtns.off() if self.rtns is not None else contextlib.nullcontext():
            loss_t = self.loss_fn(state.model, target)
        self.pairs += 1
        return (loss + loss_t) / 2


class MetaXLStep(Hook):
    """The RTN's training as a loop hook (``cfg.mode``): the bi-level step (``metaxl``), joint
    training of φ with θ (``jt-rtn``) or none (``frozen``: φ stays φ₀, the meta-step ablation).
    ``metaxl`` owns an endless stream of target batches for the meta loss; it runs after a
    :class:`PairTarget` (if any), so θ' is a step on the same loss θ trains on."""

    def __init__(
        self,
        rtns: RTNSet,
        cfg: MetaXLConfig,
        target_batches: Callable[[int], Iterable[Batch]] | None = None,
        loss_fn: LossFn = default_loss,
    ):
        if cfg.mode == "metaxl" and target_batches is None:
            raise ValueError("metaxl: the bi-level step needs target training batches")
        self.rtns, self.cfg, self.loss_fn = rtns, cfg, loss_fn
        self.target_batches = target_batches
        self._pending: list[torch.Tensor] | None = None
        self._phi0: dict[str, list[torch.Tensor]] | None = None
        self._attn: str | None = None
        self.meta_losses: list[float] = []
        self.optimizer: torch.optim.Optimizer | None = None

    def on_train_start(self, state: LoopState) -> None:
        self.rtns.to(state.device)
        self.rtns.active = True
        trains = self.cfg.mode != "frozen"
        for p in self.rtns.parameters():
            p.requires_grad_(trains)
        self._phi0 = {k: [p.detach().clone() for p in m.parameters()] for k, m in self.rtns.rtns.items()}  # fmt: skip
        phi = self.rtns.parameters()
        if self.cfg.mode == "metaxl":
            self.optimizer = torch.optim.Adam(
                phi, lr=self.cfg.meta_lr, betas=self.cfg.meta_betas,
                weight_decay=self.cfg.meta_weight_decay,
            )  # fmt: skip
            assert self.target_batches is not None
            self.stream = cycle(self.target_batches, "metaxl: the target training set")
            self._attn = eager_attention(state.model)
        elif self.cfg.mode == "jt-rtn":  # ordinary training, same settings as θ (lr every step)
            c = state.cfg
            self.optimizer = torch.optim.AdamW(phi, lr=c.lr, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay)  # fmt: skip

    def extra_loss(self, state: LoopState, batch: Batch, loss: torch.Tensor) -> torch.Tensor:
        if self.cfg.mode != "metaxl" or not state.model.training:
            return loss
        target = move(next(self.stream), state.device)
        alpha = self.cfg.inner_lr or state.optimizer.param_groups[0]["lr"]
        # the meta step's forward passes draw their dropout masks from a forked RNG, so θ's
        # batches see the masks they would see without the meta step (jt, metaxl-frozen)
        grads: list[torch.Tensor | None] = []
        with torch.random.fork_rng(devices=_rng_devices(state.device)):
            self._pending, tgt = meta_gradient(
                state.model, self.rtns, loss, target, alpha, self.loss_fn, source_grads=grads
            )
        self.meta_losses.append(float(tgt.detach()))
        # ∇θ L is computed already (θ' needed it): the loop's backward gets a surrogate with that
        # gradient and L's value, and skips a second backward pass through the batches
        params = [p for p in state.model.parameters() if p.requires_grad]
        surrogate = sum((g * p).sum() for p, g in zip(params, grads, strict=True) if g is not None)
        if not isinstance(surrogate, torch.Tensor):
            return loss
        return loss.detach() + (surrogate - surrogate.detach())

    def on_step_end(self, state: LoopState) -> None:
        if self.optimizer is None:
            return
        phi = self.rtns.parameters()
        if self.cfg.mode == "metaxl":
            if self._pending is None:
                return
            for p, g in zip(phi, self._pending, strict=True):
                p.grad = g
            self._pending = None
        else:
            for group in self.optimizer.param_groups:
                group["lr"] = state.optimizer.param_groups[0]["lr"]
            if state.cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(phi, state.cfg.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def on_train_end(self, state: LoopState) -> None:
        self.rtns.active = False
        if self._attn is not None:
            state.model.set_attn_implementation(self._attn)
        state.extra["metaxl"] = self.summary()

    def phi_change_per_layer(self) -> dict[str, float]:
        """‖φ − φ₀‖_F per RTN (its four tensors together), by layer."""
        start = self._phi0 or {}
        return {
            k: math.sqrt(
                sum(
                    float((p.detach() - q).pow(2).sum())
                    for p, q in zip(m.parameters(), start.get(k, []), strict=True)
                )
            )  # fmt: skip
            for k, m in self.rtns.rtns.items()
            if k in start
        }

    def phi_change(self) -> float:
        """‖φ − φ₀‖_F over every RTN."""
        return math.sqrt(sum(v * v for v in self.phi_change_per_layer().values()))

    def summary(self) -> dict[str, Any]:
        tail = self.meta_losses[-20:]
        start = self._phi0 or {}
        return {
            "mode": self.cfg.mode,
            "rtn": self.cfg.rtn,
            "layers": list(self.rtns.layers),
            "bottleneck": int(next(iter(self.rtns.rtns.values())).down.out_features),
            "rtn_parameters": sum(p.numel() for p in self.rtns.parameters()),
            "meta_steps": len(self.meta_losses),
            "phi_change": round(self.phi_change(), 6),
            # ‖φ − φ₀‖_F per layer, and ‖φ₀‖_F for scale
            "phi_change_per_layer": {
                k: round(v, 6) for k, v in self.phi_change_per_layer().items()
            },
            "phi0_norm_per_layer": {
                k: round(math.sqrt(sum(float(q.pow(2).sum()) for q in v)), 6)
                for k, v in start.items()
            },  # fmt: skip
            "last_meta_loss": round(sum(tail) / len(tail), 4) if tail else None,
        }


# --------------------------------------------------------------------------------------------
# model selection on the target dev set


def dev_score(model, spec: TaskSpec, feats, gold: list, pad_id: int, batch_size: int, device) -> float:  # fmt: skip
    pred, _ = predict(model, spec, feats, pad_id, batch_size, device)
    return scores(spec.kind, gold, pred)[MAIN_METRIC[spec.kind]]


class SelectByDev(Hook):
    """Scores the target dev set after every epoch, keeps the best state (a CPU copy) and
    restores it when training ends (the paper's per-epoch model selection). With ``patience``
    training stops once the dev score has not risen for that many epochs (the epoch budget is
    then a cap: the run goes on while dev still rises)."""

    def __init__(self, spec: TaskSpec, tokenizer, records: Sequence[Mapping], max_length: int = 128,
                 batch_size: int = 128, patience: int | None = None):  # fmt: skip
        if not records:
            raise ValueError("model selection by target dev needs a non-empty target dev set")
        if patience is not None and patience < 1:
            raise ValueError(f"metaxl.patience must be >= 1 (or unset), got {patience}")
        self.spec, self.pad_id, self.batch_size = spec, tokenizer.pad_token_id, batch_size
        self.feats = encode(spec, tokenizer, records, max_length)
        self.gold = gold_answers(spec.kind, records)
        self.patience = patience
        self.best = -math.inf
        self.best_epoch: int | None = None
        self.history: list[float] = []
        self.stopped_early = False
        self._state: dict[str, torch.Tensor] | None = None

    def on_epoch_end(self, state: LoopState) -> None:
        score = dev_score(state.model, self.spec, self.feats, self.gold, self.pad_id, self.batch_size, state.device)  # fmt: skip
        self.history.append(round(score, 4))
        if score > self.best:
            self.best, self.best_epoch = score, state.epoch
            self._state = {k: v.detach().to("cpu", copy=True) for k, v in state.model.state_dict().items()}  # fmt: skip
        elif self.patience is not None and state.epoch - (self.best_epoch or 0) >= self.patience:
            self.stopped_early = not state.step >= state.total_steps
            state.stop = True

    def on_train_end(self, state: LoopState) -> None:
        if self._state is not None:
            state.model.load_state_dict(self._state)
        state.extra["select_by_dev"] = self.info()

    def info(self) -> dict[str, Any]:
        return {
            "selection": "best epoch on target dev (scored after every epoch; that epoch's model is the candidate)",  # fmt: skip
            "best_epoch": self.best_epoch,
            "best_dev": round(self.best, 4),
            "dev_per_epoch": self.history,
            "epochs_run": len(self.history),
            "patience": self.patience,
            "stopped_early": self.stopped_early,
        }


# --------------------------------------------------------------------------------------------
# the few-shot setting and the top-level entry point


def draw_few_shot(records: Sequence[Mapping], n: int, seed: int, where: str = "the target training set", key: str = "metaxl.n") -> list:  # fmt: skip
    """``n`` examples drawn without replacement with ``seed`` (the same n and seed give the same
    draw; a larger n contains a smaller one's draw only by chance). ``key``: the config key that
    sets ``n``, named in the error when ``where`` has fewer examples."""
    if n < 1:
        raise ValueError(f"{key}: must be >= 1, got {n}")
    if n > len(records):
        raise ValueError(
            f"{key}: {n} examples asked for but {where} has only {len(records)}; lower {key} to "
            f"at most {len(records)} or give a larger training set"
        )
    idx = np.random.default_rng(seed).choice(len(records), size=n, replace=False)
    return [records[i] for i in sorted(idx)]


def train_metaxl(
    cfg,
    encoder_dir: str | Path,
    method: str,
    source: Sequence[Mapping],
    target: Sequence[Mapping],
    target_dev: Sequence[Mapping],
    evals: Mapping[str, Mapping[str, Sequence[Mapping]]],
    mcfg: MetaXLConfig | None = None,
    *,
    model=None,
    represent: Mapping[str, tuple[Sequence[Mapping], bool]] | None = None,
    represent_limit: int = 500,
    patience: int | None = None,
):
    """One candidate of the MetaXL grid through :func:`xlt.finetune.finetune`.

    ``method``: one of :data:`METHODS` (module docstring). Every method keeps the epoch with the
    best ``target_dev`` score (``patience``: stop once it has not risen for that many epochs).
    ``cfg`` is a :class:`xlt.finetune.FinetuneConfig`; returns its
    :class:`~xlt.finetune.CandidateResult` with ``info["select_by_dev"]``, ``info["schedule"]``
    and, for the RTN methods, ``info["metaxl"]`` (φ's change per layer among it).

    ``represent`` (``{lang: (records, transform)}``) adds ``result.info["representations"]``:
    each language's last-layer vectors (:func:`xlt.analysis.shift.representations`, at most
    ``represent_limit``) from the selected model, with the RTNs applied where ``transform`` is
    set and the method has them (the source side of the paper's §4.5 analysis).
    """
    from transformers import AutoTokenizer

    from xlt.finetune import finetune, training_batches
    from xlt.tasks import build_model

    if method not in METHODS:
        raise ValueError(f"metaxl: method must be one of {METHODS}, got {method!r}")
    if not target:
        raise ValueError("metaxl: no target training examples (draw them with draw_few_shot)")
    mcfg = mcfg or MetaXLConfig()
    spec = cfg.spec
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    model = model if model is not None else build_model(spec, str(encoder_dir), cfg.seed)
    select = SelectByDev(spec, tokenizer, target_dev, cfg.max_length, cfg.eval_batch_size, patience)
    train = {"target-only": list(target), "jt-concat": [*source, *target]}.get(method, list(source))
    tfeats = encode(spec, tokenizer, target, cfg.max_length)
    tbs = mcfg.target_batch_size or cfg.batch_size

    def stream(offset: int):
        return training_batches(tfeats, tbs, tokenizer.pad_token_id, cfg.seed + offset)

    rtns = step = pair = None
    if method in RTN_METHODS:
        rtns = RTNSet(model, mcfg.layers, mcfg.bottleneck, form=mcfg.rtn, seed=cfg.seed)
        mode = MODE_OF[method]
        step = MetaXLStep(rtns, replace(mcfg, mode=mode), stream(META_STREAM) if mode == "metaxl" else None)  # fmt: skip
    if method in PAIRED:
        pair = PairTarget(stream(PAIR_STREAM), rtns)
    hooks = [h for h in (pair, step, select) if h is not None]
    attn = eager_attention(model)  # every method: the meta step's kernels for all arms
    try:
        result = finetune(cfg, encoder_dir, train, evals, hooks=hooks, model=model)
        vectors = {}
        for lang, (records, transform) in (represent or {}).items():
            on = rtns.forced() if (rtns is not None and transform) else contextlib.nullcontext()
            with on:
                vectors[lang] = representations(result.model, spec, tokenizer, records, max_length=cfg.max_length, batch_size=cfg.eval_batch_size, limit=represent_limit, seed=cfg.seed)  # fmt: skip
    finally:
        if rtns is not None:
            rtns.remove()
        if attn is not None:
            model.set_attn_implementation(attn)
    if represent:
        result.info["representations"] = vectors
    result.info["select_by_dev"] = select.info()
    result.info["few_shot_target"] = len(target)
    result.info["source_examples"] = 0 if method == "target-only" else len(source)
    result.info["schedule"] = {
        "method": method,
        "epoch": "a pass over the target" if method == "target-only" else
                 "a pass over source ∪ target" if method == "jt-concat" else "a pass over the source",
        "target_batches_in_theta_loss": pair.pairs if pair is not None else None,
        "theta_loss": "(L_s + L_t) / 2, one source and one target batch per step" if pair is not None else "mean over the batch",
    }  # fmt: skip
    if step is not None:
        result.info["metaxl"] = step.summary() | {"config": asdict(step.cfg)}
    return result


def run_metaxl_candidate(
    params: Mapping[str, Any],
    encoder_dir: str,
    train_paths: Mapping[str, str],
    eval_paths: Mapping[str, str],
    outputs: Mapping[str, str],
):
    """One candidate job of the MetaXL grid (rules/metaxl.smk): draw the few-shot target set and
    the source subset, train, score every language, write the candidate record plus
    ``representations.npz`` (source and target dev vectors for the Hausdorff / PCA analysis).

    ``params``: the finetune settings plus ``metaxl`` (method, target, source_lang, source_size,
    layers, n, draw_seed, meta_lr, bottleneck, rtn, patience, target_batch_size, represent);
    ``train_paths``: ``{"target": file, "source": file}`` (no source for target-only).
    """
    from xlt.finetune import (
        candidate_meta,
        finetune_config,
        infer_labels,
        load_evals,
        load_labelled,
        write_candidate,
    )
    from xlt.io import atomic_open

    mx = params["metaxl"]
    kind, labels = params["kind"], params.get("labels")
    tgt = mx["target"]
    target_all = load_labelled(train_paths["target"], kind, labels)
    target = draw_few_shot(target_all, int(mx["n"]), int(mx["draw_seed"]), train_paths["target"], "metaxl.n")  # fmt: skip
    source: list = []
    if "source" in train_paths:
        source_all = load_labelled(train_paths["source"], kind, labels)
        source = draw_few_shot(source_all, int(mx["source_size"]), int(mx["draw_seed"]), train_paths["source"], "metaxl.source_size")  # fmt: skip
    evals = load_evals(kind, labels, eval_paths)
    if f"{tgt}/dev" not in eval_paths:
        raise ValueError(f"metaxl: no dev set of the target {tgt!r} among the evaluation files")
    if not labels:
        labels = infer_labels(kind, [target, source, *[r for v in evals.values() for r in v.values()]])  # fmt: skip
    cfg = finetune_config(params, labels)
    mcfg = MetaXLConfig(
        layers=tuple(mx.get("layers") or (-1,)),
        bottleneck=mx.get("bottleneck"),
        meta_lr=float(mx["meta_lr"]),
        target_batch_size=mx.get("target_batch_size"),
        rtn=mx.get("rtn", "residual"),
    )
    src_lang = mx.get("source_lang") or params.get("source")
    if src_lang not in evals:  # a related source the task does not evaluate: the task's source
        src_lang = params.get("source")
    represent = {"source": (evals[src_lang]["dev"], True), "target": (evals[tgt]["dev"], False)}
    log.info("metaxl candidate %s/%s seed=%d: %d target + %d source examples", params.get("task"),
             params.get("method"), cfg.seed, len(target), len(source))  # fmt: skip
    result = train_metaxl(cfg, encoder_dir, mx["method"], source, target, evals[tgt]["dev"], evals, mcfg,
                          represent=represent, represent_limit=int(mx.get("represent", 500)),
                          patience=mx.get("patience"))  # fmt: skip
    vectors = result.info.pop("representations")
    meta = {
        **candidate_meta(params, cfg),
        "train_files": dict(train_paths),
        "metaxl": {**mx, "represented_source": src_lang},
    }
    with atomic_open(outputs["representations"], "wb") as fh:
        np.savez(fh, source=vectors["source"], target=vectors["target"],
                 source_lang=src_lang, target_lang=tgt)  # fmt: skip
    write_candidate(result, cfg, meta, outputs["metrics"], outputs["predictions"], outputs["features"], outputs.get("weights"))  # fmt: skip
    return result


__all__ = [
    "METHODS",
    "MODES",
    "PAIRED",
    "RTN",
    "RTN_FORMS",
    "RTN_METHODS",
    "MetaXLConfig",
    "MetaXLStep",
    "PairTarget",
    "RTNSet",
    "SelectByDev",
    "draw_few_shot",
    "meta_gradient",
    "resolve_layers",
    "run_metaxl_candidate",
    "train_metaxl",
]
