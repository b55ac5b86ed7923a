"""MetaXL (seed 001, Xia et al.; methods.md §2): meta representation transformation as hooks of
the one training loop.

A representation transformation network (RTN, :class:`RTN`) sits after chosen layers of the
encoder and transforms the hidden states of *source* examples only, at training time only
(:class:`RTNSet`). Per step of the loop (whose batches are source batches):

1. the loop computes the source loss L_src(θ, φ) through the RTN;
2. :class:`MetaXLStep` takes θ' = θ − α ∇θ L_src(θ, φ), kept differentiable w.r.t. φ, runs a
   target batch through θ' (``torch.func.functional_call``, RTN off) and computes ∇φ L_tgt(θ');
3. the loop updates θ on the source loss (its own AdamW, which never sees φ);
4. the hook applies the meta gradient to φ with its own Adam (meta learning rate).

Both updates use θ(t) and φ(t), as in the paper's Algorithm 1; α defaults to the loop's current
learning rate (as the authors' code does). ``MetaXLConfig.joint_target`` adds a target batch to
θ's loss (RTN off), as the authors' released code does; the paper's algorithm trains θ on the
source only (the default). φ lives outside
``model.parameters()`` (the RTNs are not submodules of the model), so ``make_optimizer``, gradient
clipping and ``save_pretrained`` never see it; the RTNs are discarded after training.

Modes (:data:`MODES`): ``metaxl`` (the bi-level step) and ``jt-rtn`` (the capacity control "JT w/
RTN": the RTN in the forward pass of source examples, trained jointly with θ by ordinary training,
no meta step). :func:`train_metaxl` runs any of :data:`METHODS` (target-only, jt, jt-rtn, metaxl,
and ``metaxl-joint``: MetaXL with ``joint_target``, the authors' released code)
through :func:`xlt.finetune.finetune` with model selection on the target dev set after each epoch
(:class:`SelectByDev`), so every candidate lands in the same pools.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
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

MODES = ("metaxl", "jt-rtn")
METHODS = ("target-only", "jt", "jt-rtn", "metaxl", "metaxl-joint")


# --------------------------------------------------------------------------------------------
# the representation transformation network


class RTN(torch.nn.Module):
    """g_φ(h) = W₂ᵀ ReLU(W₁ᵀ h + b₁) + b₂ with W₁ ∈ R^{d×r}, W₂ ∈ R^{r×d} (bottleneck r).

    Initialisation: W₁ Xavier-normal, b₁ = 0 (as in the authors' released code). With
    ``residual=True`` (the default) the layer outputs h + g_φ(h) and starts with W₂ = 0, b₂ = 0,
    i.e. as the identity: at step 0 source examples see the encoder's representations unchanged
    and the meta gradient grows the transformation from there. (The paper initialises φ randomly
    and outputs g_φ(h) itself; from random φ a small encoder first has to undo a random map, so
    ``residual=False`` reproduces the paper's form, with W₂ Xavier-normal and b₂ = 0.)
    """

    def __init__(self, dim: int, bottleneck: int, residual: bool = True, seed: int = 0):
        super().__init__()
        self.down = torch.nn.Linear(dim, bottleneck)
        self.up = torch.nn.Linear(bottleneck, dim)
        self.residual = residual
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            torch.nn.init.xavier_normal_(self.down.weight, generator=gen)
            self.down.bias.zero_()
            if residual:
                self.up.weight.zero_()
            else:
                torch.nn.init.xavier_normal_(self.up.weight, generator=gen)
            self.up.bias.zero_()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        g = self.up(torch.relu(self.down(h)))
        return h + g if self.residual else g


def _sequence_key(ids: Sequence[int] | np.ndarray) -> bytes:
    return np.asarray(ids, dtype=np.int64).tobytes()


class RTNSet:
    """RTNs after layers of a Hugging Face BERT/XLM-R-family encoder, attached by forward hooks.

    Layer ``0`` is the embeddings' output, ``i`` the output of encoder layer ``i``, ``N`` (or
    ``-1``) the last layer. The RTNs act only while :attr:`active` is set *and* the model is in
    training mode, so evaluation (``model.eval()``) never sees them. With ``source_keys`` (the
    token-id sequences of the source examples) a batch that mixes source and target rows is
    transformed row by row: only rows whose tokens are a source example's (identical sequences in
    both sets count as source).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        layers: Sequence[int],
        bottleneck: int | None = None,
        *,
        residual: bool = True,
        seed: int = 0,
        source_keys: set[bytes] | None = None,
    ):
        base = model.base_model
        blocks = base.encoder.layer
        depth = len(blocks)
        dim = int(model.config.hidden_size)
        self.layers = resolve_layers(layers, depth)
        r = bottleneck or max(1, dim // 2)
        self.rtns = torch.nn.ModuleDict(
            {str(i): RTN(dim, r, residual, seed + i) for i in self.layers}
        )
        p = next(model.parameters())
        self.rtns.to(p.device, p.dtype)
        self.active = True
        self.force = False  # True: act in eval mode too (representation analysis, see forced())
        self.rows: torch.Tensor | None = None
        self.source_keys = source_keys
        self._handles = [
            (base.embeddings if i == 0 else blocks[i - 1]).register_forward_hook(self._hook(str(i)))
            for i in self.layers
        ]
        if source_keys is not None:
            self._handles.append(model.register_forward_pre_hook(self._mark_rows, with_kwargs=True))

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

    def _mark_rows(self, _module, args, kwargs) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None or self.source_keys is None or not _module.training:
            self.rows = None
            return
        mask = kwargs.get("attention_mask")
        ids_np = ids.detach().cpu().numpy()
        real = mask.detach().cpu().numpy().astype(bool) if mask is not None else None
        rows = [
            _sequence_key(row[real[k]] if real is not None else row) in self.source_keys
            for k, row in enumerate(ids_np)
        ]
        self.rows = torch.tensor(rows, device=ids.device)

    def _hook(self, key: str) -> Callable:
        def hook(module: torch.nn.Module, _args, output):
            if not (self.active and (module.training or self.force)):
                return None
            h = output[0] if isinstance(output, tuple) else output
            new = self.rtns[key](h)
            if self.rows is not None and module.training:  # forced (eval): every row is source
                new = torch.where(self.rows[:, None, None], new, h)
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
    bottleneck: int | None = None  # r; None: hidden size // 2 (the paper's 384 of 768 for NER)
    meta_lr: float = 3e-5  # β: learning rate of φ's Adam (paper tunes 3e-5, 1e-6, 1e-7)
    inner_lr: float | None = None  # α of θ' = θ − α∇θL; None: the loop's current (scheduled) lr
    meta_betas: tuple[float, float] = (0.9, 0.999)
    meta_weight_decay: float = 0.0
    target_batch_size: int | None = None  # None: the main batch size
    residual: bool = True  # h + g_φ(h), identity at start (see RTN); False: the paper's g_φ(h)
    mode: str = "metaxl"  # metaxl | jt-rtn
    # False: θ trains on source batches only (the paper's Algorithm 1). True: θ's loss also
    # averages in one target batch per step, RTN off (the authors' released code); the meta loss
    # then uses the next target batch of the stream.
    joint_target: bool = False

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


def _rows(batch: Batch) -> int:
    return int(batch["input_ids"].shape[0])


class MetaXLStep(Hook):
    """The RTN's training as a loop hook: the bi-level step (``metaxl``) or joint training of φ
    with θ (``jt-rtn``). The loop's batches are source batches; the hook owns an endless stream
    of target batches (``metaxl`` only)."""

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
        self._phi0: list[torch.Tensor] | None = None
        self._attn: str | None = None
        self.meta_losses: list[float] = []

    def on_train_start(self, state: LoopState) -> None:
        self.rtns.to(state.device)
        self.rtns.active = True
        phi = self.rtns.parameters()
        for p in phi:
            p.requires_grad_(True)
        self._phi0 = [p.detach().clone() for p in phi]
        if self.cfg.mode == "metaxl":
            self.optimizer = torch.optim.Adam(
                phi, lr=self.cfg.meta_lr, betas=self.cfg.meta_betas,
                weight_decay=self.cfg.meta_weight_decay,
            )  # fmt: skip
            assert self.target_batches is not None
            self.stream = cycle(self.target_batches, "metaxl: the target training set")
            self._eager_attention(state)
        else:  # jt-rtn: ordinary training, same settings as θ (lr followed every step)
            c = state.cfg
            self.optimizer = torch.optim.AdamW(phi, lr=c.lr, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay)  # fmt: skip

    def _eager_attention(self, state: LoopState) -> None:
        self._attn = eager_attention(state.model)

    def extra_loss(self, state: LoopState, batch: Batch, loss: torch.Tensor) -> torch.Tensor:
        if self.cfg.mode != "metaxl" or not state.model.training:
            return loss
        if self.cfg.joint_target:  # θ's loss also covers a target batch (RTN off)
            train_t = move(next(self.stream), state.device)
            with self.rtns.off():
                loss_t = self.loss_fn(state.model, train_t)
            n_s, n_t = _rows(batch), _rows(train_t)
            loss = (n_s * loss + n_t * loss_t) / (n_s + n_t)
        target = move(next(self.stream), state.device)
        alpha = self.cfg.inner_lr or state.optimizer.param_groups[0]["lr"]
        self._pending, tgt = meta_gradient(
            state.model, self.rtns, loss, target, alpha, self.loss_fn, retain_graph=True
        )
        self.meta_losses.append(float(tgt.detach()))
        return loss

    def on_step_end(self, state: LoopState) -> None:
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

    def phi_change(self) -> float:
        """‖φ − φ₀‖₂ since training started."""
        start = self._phi0
        if start is None:
            return 0.0
        now = self.rtns.parameters()
        return math.sqrt(sum(float((p.detach() - q).pow(2).sum()) for p, q in zip(now, start, strict=True)))  # fmt: skip

    def summary(self) -> dict[str, Any]:
        tail = self.meta_losses[-20:]
        return {
            "mode": self.cfg.mode,
            "layers": list(self.rtns.layers),
            "rtn_parameters": sum(p.numel() for p in self.rtns.parameters()),
            "meta_steps": len(self.meta_losses),
            "phi_change": round(self.phi_change(), 6),
            "last_meta_loss": round(sum(tail) / len(tail), 4) if tail else None,
        }


# --------------------------------------------------------------------------------------------
# model selection on the target dev set


def dev_score(model, spec: TaskSpec, feats, gold: list, pad_id: int, batch_size: int, device) -> float:  # fmt: skip
    pred, _ = predict(model, spec, feats, pad_id, batch_size, device)
    return scores(spec.kind, gold, pred)[MAIN_METRIC[spec.kind]]


class SelectByDev(Hook):
    """Scores the target dev set after every epoch, keeps the best state (a CPU copy) and
    restores it when training ends (the paper's per-epoch model selection)."""

    def __init__(self, spec: TaskSpec, tokenizer, records: Sequence[Mapping], max_length: int = 128, batch_size: int = 128):  # fmt: skip
        if not records:
            raise ValueError("model selection by target dev needs a non-empty target dev set")
        self.spec, self.pad_id, self.batch_size = spec, tokenizer.pad_token_id, batch_size
        self.feats = encode(spec, tokenizer, records, max_length)
        self.gold = gold_answers(spec.kind, records)
        self.best = -math.inf
        self.best_epoch: int | None = None
        self.history: list[float] = []
        self._state: dict[str, torch.Tensor] | None = None

    def on_epoch_end(self, state: LoopState) -> None:
        score = dev_score(state.model, self.spec, self.feats, self.gold, self.pad_id, self.batch_size, state.device)  # fmt: skip
        self.history.append(round(score, 4))
        if score > self.best:
            self.best, self.best_epoch = score, state.epoch
            self._state = {k: v.detach().to("cpu", copy=True) for k, v in state.model.state_dict().items()}  # fmt: skip

    def on_train_end(self, state: LoopState) -> None:
        if self._state is not None:
            state.model.load_state_dict(self._state)
        state.extra["select_by_dev"] = self.info()

    def info(self) -> dict[str, Any]:
        return {"best_epoch": self.best_epoch, "best_dev": round(self.best, 4), "dev_per_epoch": self.history}  # fmt: skip


# --------------------------------------------------------------------------------------------
# the few-shot setting and the top-level entry point


def draw_few_shot(records: Sequence[Mapping], n: int, seed: int, where: str = "the target training set") -> list:  # fmt: skip
    """``n`` examples drawn without replacement with ``seed`` (the same n and seed give the same
    draw; a larger n contains a smaller one's draw only by chance)."""
    if n < 1:
        raise ValueError(f"few-shot: n must be >= 1, got {n}")
    if n > len(records):
        raise ValueError(
            f"few-shot: n={n} target examples asked for but {where} has only {len(records)}; "
            f"lower n to at most {len(records)} or give a larger training set"
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
):
    """One candidate of the MetaXL grid through :func:`xlt.finetune.finetune`.

    ``method``: ``target-only`` (trains on ``target``), ``jt`` (``source`` ∪ ``target``),
    ``jt-rtn`` (``source`` ∪ ``target``, RTN on the source rows, φ trained jointly) or ``metaxl``
    (the loop trains on ``source`` through the RTN; ``target`` feeds the meta loss). Every method
    keeps the epoch with the best ``target_dev`` score. ``cfg`` is a
    :class:`xlt.finetune.FinetuneConfig`; returns its :class:`~xlt.finetune.CandidateResult`
    with ``info["metaxl"]`` and ``info["select_by_dev"]``.

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
    select = SelectByDev(spec, tokenizer, target_dev, cfg.max_length, cfg.eval_batch_size)
    joint = method == "metaxl-joint"  # the authors' code: θ also trains on target batches
    method = "metaxl" if joint else method
    train = {"target-only": list(target), "metaxl": list(source)}.get(method, [*source, *target])
    step = None
    if method in MODES:
        keys = None
        if method == "jt-rtn":  # mixed batches: the RTN transforms the source rows only
            keys = {_sequence_key(ids) for ids in encode(spec, tokenizer, source, cfg.max_length).input_ids}  # fmt: skip
        rtns = RTNSet(model, mcfg.layers, mcfg.bottleneck, residual=mcfg.residual, seed=cfg.seed, source_keys=keys)  # fmt: skip
        tgt = None
        if method == "metaxl":
            tfeats = encode(spec, tokenizer, target, cfg.max_length)
            tgt = training_batches(tfeats, mcfg.target_batch_size or cfg.batch_size, tokenizer.pad_token_id, cfg.seed + 1)  # fmt: skip
        step = MetaXLStep(rtns, dataclasses.replace(mcfg, mode=method, joint_target=mcfg.joint_target or joint), tgt)  # fmt: skip
    try:
        hooks = [select] if step is None else [step, select]
        result = finetune(cfg, encoder_dir, train, evals, hooks=hooks, model=model)
        vectors = {}
        for lang, (records, transform) in (represent or {}).items():
            on = (
                step.rtns.forced() if (step is not None and transform) else contextlib.nullcontext()
            )
            with on:
                vectors[lang] = representations(result.model, spec, tokenizer, records, max_length=cfg.max_length, batch_size=cfg.eval_batch_size, limit=represent_limit, seed=cfg.seed)  # fmt: skip
    finally:
        if step is not None:
            step.rtns.remove()
    if represent:
        result.info["representations"] = vectors
    result.info["select_by_dev"] = select.info()
    result.info["few_shot_target"] = len(target)
    result.info["source_examples"] = 0 if method == "target-only" else len(source)
    if step is not None:
        result.info["metaxl"] = step.summary() | {"config": dataclasses.asdict(step.cfg)}
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
    layers, n, draw_seed, meta_lr, bottleneck, target_batch_size, represent);
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
    target = draw_few_shot(target_all, int(mx["n"]), int(mx["draw_seed"]), f"{train_paths['target']}")  # fmt: skip
    source: list = []
    if "source" in train_paths:
        source_all = load_labelled(train_paths["source"], kind, labels)
        source = draw_few_shot(source_all, int(mx["source_size"]), int(mx["draw_seed"]), f"{train_paths['source']} (metaxl.source_size)")  # fmt: skip
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
    )
    src_lang = mx.get("source_lang") or params.get("source")
    if src_lang not in evals:  # a related source the task does not evaluate: the task's source
        src_lang = params.get("source")
    represent = {"source": (evals[src_lang]["dev"], True), "target": (evals[tgt]["dev"], False)}
    log.info("metaxl candidate %s/%s seed=%d: %d target + %d source examples", params.get("task"),
             params.get("method"), cfg.seed, len(target), len(source))  # fmt: skip
    result = train_metaxl(cfg, encoder_dir, mx["method"], source, target, evals[tgt]["dev"], evals, mcfg,
                          represent=represent, represent_limit=int(mx.get("represent", 500)))  # fmt: skip
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
    "RTN",
    "MetaXLConfig",
    "MetaXLStep",
    "RTNSet",
    "SelectByDev",
    "draw_few_shot",
    "meta_gradient",
    "resolve_layers",
    "run_metaxl_candidate",
    "train_metaxl",
]
