"""Linear interpolation between fine-tuned models (seed 002, methods.md §3), built in place.

From one initialisation, θ_src (source only), θ_tgt (target only) and θ_bi (source + target) are
trained; every point of the plane

    θ(α₁, α₂) = θ_bi + α₁ δ_src + α₂ δ_tgt,   δ_src = θ_src − θ_bi,  δ_tgt = θ_tgt − θ_bi

is written into ONE model instance and scored, so hundreds of models cost no model loads. The
1-D paths are special cases: α θ_bi + (1−α) θ_src is the point (1−α, 0) and α θ_bi + (1−α) θ_tgt
the point (0, 1−α). :class:`Interpolator` keeps the three endpoints (not the two deltas) and
writes ``(1−α₁−α₂)·θ_bi + α₁·θ_src + α₂·θ_tgt``: the same plane, but each endpoint is
reproduced bit for bit (a coefficient of 0 contributes an exact 0), which θ_bi + 1·δ_src in
floating point does not guarantee. Memory: the model plus three endpoint copies.

Every unique tensor of the model is handled once (tied weights share one tensor); floating-point
buffers are interpolated like parameters, integer buffers (position ids, counters) must be equal
in the three endpoints and are copied from θ_bi; non-persistent buffers are left as built.
"""

from __future__ import annotations

import json
import logging
import math
import resource
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from xlt.io import atomic_open, read_output_json
from xlt.metrics import MAIN_METRIC, scores
from xlt.studies.interpolation.settings import alpha_grid
from xlt.tasks import TaskSpec, encode, gold_answers, predict

__all__ = ["alpha_grid", "Interpolator", "Geometry", "geometry", "GridScorer", "grid_points"]

log = logging.getLogger("xlt.studies.interpolation.interpolation")
ENDPOINTS = ("src", "tgt", "bi")


@dataclass
class _Entry:
    names: tuple[str, ...]  # every name of the tensor (several for tied weights)
    live: torch.Tensor  # the model's own tensor, overwritten in place
    ends: dict[str, torch.Tensor]  # endpoint -> its values
    trainable: bool  # a parameter that requires grad (counted in the geometry)
    mixed: bool  # floating point: interpolated; else copied from θ_bi


def unique_tensors(model: torch.nn.Module) -> list[tuple[tuple[str, ...], torch.Tensor, bool]]:
    """``(names, tensor, is_parameter)`` for every distinct parameter and buffer of ``model``."""
    groups: dict[int, tuple[list[str], torch.Tensor, bool]] = {}
    named = [
        *((n, t, True) for n, t in model.named_parameters(remove_duplicate=False)),
        *((n, t, False) for n, t in model.named_buffers(remove_duplicate=False)),
    ]
    for name, tensor, is_param in named:
        groups.setdefault(id(tensor), ([], tensor, is_param))[0].append(name)
    return [(tuple(names), t, p) for names, t, p in groups.values()]


class Interpolator:
    """Writes θ(α₁, α₂) into ``model`` in place from the endpoints' state dicts.

    ``states`` maps ``src``, ``tgt`` and ``bi`` to state dicts of the same architecture (e.g.
    read by :func:`load_weights`); they are kept (moved to the model's device and dtype), not
    copied again. ``where`` names the endpoints in error messages.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        states: Mapping[str, Mapping[str, torch.Tensor]],
        where: Mapping[str, str] | None = None,
    ):
        missing = [e for e in ENDPOINTS if e not in states]
        if missing:
            raise ValueError(f"endpoints {missing} missing; need {list(ENDPOINTS)}")
        where = {e: str((where or {}).get(e, e)) for e in ENDPOINTS}
        self.model = model
        self.entries: list[_Entry] = []
        used: dict[str, set[str]] = {e: set() for e in ENDPOINTS}
        for names, live, is_param in unique_tensors(model):
            found = {e: next((n for n in names if n in states[e]), None) for e in ENDPOINTS}
            if all(v is None for v in found.values()) and not is_param:
                continue  # a non-persistent buffer (e.g. position_ids): stays as built
            ends = {}
            for e in ENDPOINTS:
                key = found[e]
                if key is None:
                    raise ValueError(f"{where[e]}: no weights for {names[0]!r} (tied names: {list(names)}); "
                                     "the endpoint was saved from a different architecture")  # fmt: skip
                value = states[e][key]
                if value.shape != live.shape:
                    raise ValueError(f"{where[e]}: {key!r} has shape {tuple(value.shape)}, the model "
                                     f"expects {tuple(live.shape)}; train every endpoint with the same "
                                     "encoder and label set")  # fmt: skip
                used[e].add(key)
                ends[e] = value.to(device=live.device, dtype=live.dtype)
            mixed = live.is_floating_point()
            if not mixed:
                for e in ("src", "tgt"):
                    if not torch.equal(ends[e], ends["bi"]):
                        raise ValueError(f"{where[e]}: integer buffer {names[0]!r} differs from "
                                         f"θ_bi ({where['bi']}); it cannot be interpolated")  # fmt: skip
                ends = {"bi": ends["bi"]}  # one copy is enough
            trainable = is_param and live.requires_grad
            self.entries.append(_Entry(names, live, ends, trainable, mixed))
        for e in ENDPOINTS:
            extra = sorted(set(states[e]) - used[e])
            if extra:
                raise ValueError(f"{where[e]}: weights {extra[:5]} match nothing in the model; "
                                 "the endpoint was saved from a different architecture")  # fmt: skip

    @torch.no_grad()
    def apply(self, a1: float, a2: float) -> None:
        """Write (1−a1−a2)·θ_bi + a1·θ_src + a2·θ_tgt = θ_bi + a1·δ_src + a2·δ_tgt into the model."""
        c0 = 1.0 - a1 - a2
        for e in self.entries:
            if not e.mixed:
                e.live.copy_(e.ends["bi"])
                continue
            if c0 == 1.0:
                e.live.copy_(e.ends["bi"])
            else:
                torch.mul(e.ends["bi"], c0, out=e.live)
            if a1 != 0.0:
                e.live.add_(e.ends["src"], alpha=a1)
            if a2 != 0.0:
                e.live.add_(e.ends["tgt"], alpha=a2)

    def apply_1d(self, direction: str, alpha: float) -> None:
        """α θ_bi + (1−α) θ_direction (direction ``src`` or ``tgt``)."""
        a1, a2 = point_1d(direction, alpha)
        self.apply(a1, a2)

    def deltas(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``(δ_src, δ_tgt)`` of every trainable tensor, one tensor at a time."""
        for e in self.entries:
            if e.trainable:
                yield e.ends["src"] - e.ends["bi"], e.ends["tgt"] - e.ends["bi"]

    def held_bytes(self) -> int:
        """Bytes of the endpoint copies held (besides the model itself)."""
        return sum(t.numel() * t.element_size() for e in self.entries for t in e.ends.values())


def model_bytes(model: torch.nn.Module) -> int:
    return sum(t.numel() * t.element_size() for _, t, _ in unique_tensors(model))


def point_1d(direction: str, alpha: float) -> tuple[float, float]:
    """The plane coordinates (α₁, α₂) of α θ_bi + (1−α) θ_direction."""
    if direction not in ("src", "tgt"):
        raise ValueError(f"direction must be src or tgt, got {direction!r}")
    coef = round(1.0 - alpha, 10) + 0.0
    return (coef, 0.0) if direction == "src" else (0.0, coef)


@dataclass(frozen=True)
class Geometry:
    norm_src: float
    norm_tgt: float
    ratio: float  # ‖δ_src‖ / ‖δ_tgt‖
    angle: float  # degrees between δ_src and δ_tgt
    params: int  # trainable values counted


def geometry(deltas: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> Geometry:
    """Norms, norm ratio and angle of two directions given as aligned chunks (flattened)."""
    ss = tt = st = 0.0
    n = 0
    for ds, dt in deltas:
        ds, dt = ds.flatten().double(), dt.flatten().double()
        ss += float(ds @ ds)
        tt += float(dt @ dt)
        st += float(ds @ dt)
        n += ds.numel()
    ns, nt = math.sqrt(ss), math.sqrt(tt)
    cos = st / (ns * nt) if ns > 0 and nt > 0 else float("nan")
    angle = math.degrees(math.acos(max(-1.0, min(1.0, cos)))) if not math.isnan(cos) else cos
    return Geometry(ns, nt, ns / nt if nt > 0 else float("nan"), angle, n)


def grid_points(alphas_1d: Sequence[float], alphas_2d: Sequence[float]) -> list[dict[str, Any]]:
    """Points to score: both 1-D paths over ``alphas_1d`` and the plane ``alphas_2d``²."""
    pts = [
        {"path": d, "alpha": a, "a1": point_1d(d, a)[0], "a2": point_1d(d, a)[1]}
        for d in ("src", "tgt")
        for a in alphas_1d
    ]
    pts += [{"path": "2d", "alpha": None, "a1": a1, "a2": a2} for a1 in alphas_2d for a2 in alphas_2d]  # fmt: skip
    return pts


class GridScorer:
    """Scores interpolated models on fixed evaluation sets, encoded once.

    ``sets`` maps ``(lang, split)`` to records; ``score(a1, a2)`` writes θ(a1, a2) into the model
    and returns the main metric per set (rounded as :func:`xlt.finetune.evaluate` rounds), cached
    per point, so a point shared by a 1-D path and the plane is scored once.
    """

    def __init__(
        self,
        interp: Interpolator,
        spec: TaskSpec,
        tokenizer,
        sets: Mapping[tuple[str, str], Sequence[Mapping]],
        max_length: int,
        batch_size: int,
        device: torch.device | str = "cpu",
    ):
        self.interp, self.spec, self.batch_size = interp, spec, batch_size
        self.pad_id = tokenizer.pad_token_id
        self.device = torch.device(device)
        self.metric = MAIN_METRIC[spec.kind]
        self.sets = {}
        for key, records in sets.items():
            self.sets[key] = (
                encode(spec, tokenizer, records, max_length),
                gold_answers(spec.kind, records),
            )
        self.cache: dict[tuple[float, float], dict[tuple[str, str], float]] = {}

    def score(self, a1: float, a2: float) -> dict[tuple[str, str], float]:
        key = (round(a1, 8) + 0.0, round(a2, 8) + 0.0)
        if key not in self.cache:
            self.interp.apply(a1, a2)
            out = {}
            for name, (feats, gold) in self.sets.items():
                pred, _ = predict(self.interp.model, self.spec, feats, self.pad_id, self.batch_size, self.device)  # fmt: skip
                out[name] = round(scores(self.spec.kind, gold, pred, name[0])[self.metric], 4)
            self.cache[key] = out
        return self.cache[key]

    def rows(self, points: Sequence[Mapping[str, Any]], progress: bool = True) -> list[dict]:
        out = []
        for p in tqdm(points, desc="interpolated models", mininterval=10, disable=not progress):
            for (lang, split), value in self.score(p["a1"], p["a2"]).items():
                out.append({**p, "lang": lang, "split": split, "score": value})
        return out


# --- the workflow job ---------------------------------------------------------------------------


def load_weights(model_dir: str | Path) -> dict[str, torch.Tensor]:
    """The state dict written by ``save_pretrained`` (safetensors, sharded or not, or .bin)."""
    from safetensors.torch import load_file

    d = Path(model_dir)
    if (d / "model.safetensors").exists():
        return load_file(str(d / "model.safetensors"))
    index = d / "model.safetensors.index.json"
    if index.exists():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        return {k: v for s in shards for k, v in load_file(str(d / s)).items()}
    if (d / "pytorch_model.bin").exists():
        return torch.load(d / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"{d}: no model.safetensors or pytorch_model.bin (was the endpoint saved with save_pretrained?)")  # fmt: skip


def run_interpolation(
    params: Mapping[str, Any],
    encoder_dir: str,
    endpoint_dirs: Mapping[str, str],
    endpoint_metrics: Mapping[str, str],
    eval_paths: Mapping[str, str],
    out_path: str | Path,
) -> dict[str, Any]:
    """One (task, pair, seed) job: load the three endpoints into one model, score both 1-D paths
    and the plane on every eval set (``eval_paths``: ``"<lang>/<split>"`` → JSONL), write one
    gzipped JSON document (rows, geometry, endpoint check, cost) to ``out_path``."""
    from xlt.finetune import load_labelled
    from xlt.tasks import build_model, load_tokenizer
    from xlt.train.loop import resolve_device

    t0 = time.time()
    metrics = {e: read_output_json(endpoint_metrics[e]) for e in ENDPOINTS}
    labels = tuple(metrics["bi"]["config"]["labels"])
    for e in ENDPOINTS:
        if tuple(metrics[e]["config"]["labels"]) != labels:
            raise ValueError(f"{endpoint_metrics[e]}: label set differs from θ_bi's {list(labels)}")  # fmt: skip
    spec = TaskSpec(params["kind"], labels, params.get("pooling", "first"))
    device = resolve_device(params.get("device", "auto"))
    seed = int(params["seed"])
    tokenizer = load_tokenizer(spec, encoder_dir)
    # the training-time architecture (mean pooling included); its weights are overwritten below
    model = build_model(spec, encoder_dir, seed).to(device).eval()
    states = {e: load_weights(endpoint_dirs[e]) for e in ENDPOINTS}
    interp = Interpolator(model, states, where=endpoint_dirs)
    del states
    geo = geometry(interp.deltas())
    log.info("geometry: |d_src|=%.3f |d_tgt|=%.3f ratio=%.3f angle=%.1f deg over %d parameters",
             geo.norm_src, geo.norm_tgt, geo.ratio, geo.angle, geo.params)  # fmt: skip
    sets = {}
    for key, path in eval_paths.items():
        lang, split = key.split("/")
        sets[(lang, split)] = load_labelled(path, spec.kind, labels)
    scorer = GridScorer(interp, spec, tokenizer, sets, int(params.get("max_length", 128)),
                        int(params.get("eval_batch_size", 128)), device)  # fmt: skip
    points = grid_points(params["grid_1d"], params["grid_2d"])
    t1 = time.time()
    rows = scorer.rows(points)
    seconds = time.time() - t1
    # α = 0 on each 1-D path is an endpoint, α = 1 is θ_bi: their scores must be the endpoints'
    check = {}
    for e, point in (("src", (1.0, 0.0)), ("tgt", (0.0, 1.0)), ("bi", (0.0, 0.0))):
        got = scorer.score(*point)
        check[e] = max(abs(got[k] - metrics[e]["scores"][k[0]][k[1]][scorer.metric]) for k in got)
        if check[e] != 0:
            log.warning("endpoint %s: interpolated scores differ from its metrics.json by %.4f", e, check[e])  # fmt: skip
    doc = {
        "task": params["task"],
        "source": params["source"],
        "target": params["target"],
        "seed": seed,
        "kind": spec.kind,
        "metric": scorer.metric,
        "grid_1d": list(params["grid_1d"]),
        "grid_2d": list(params["grid_2d"]),
        "geometry": asdict(geo),
        "bilingual": {f"{lang}/{split}": v for (lang, split), v in scorer.score(0.0, 0.0).items()},
        "endpoint_check": check,
        "cost": {
            "models": len(scorer.cache),
            "scoring_seconds": round(seconds, 2),
            "models_per_second": round(len(scorer.cache) / max(seconds, 1e-9), 3),
            "model_mb": round(model_bytes(model) / 2**20, 2),
            "endpoint_copies_mb": round(interp.held_bytes() / 2**20, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "seconds": round(time.time() - t0, 2),
            "device": str(device),
        },
        "rows": rows,
    }
    log.info("%d interpolated models scored on %d sets in %.1fs (%.2f models/s)",
             len(scorer.cache), len(sets), seconds, doc["cost"]["models_per_second"])  # fmt: skip
    with atomic_open(out_path) as fh:
        json.dump(doc, fh, ensure_ascii=False, separators=(",", ":"))
    return doc
