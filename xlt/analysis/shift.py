"""Representation shift between languages (MetaXL's analysis, seed 001; methods.md §2).

- :func:`representations`: one vector per token (token tasks: each word's first sub-word) or per
  sentence (first token or mean of the real tokens) from a chosen layer of a trained model;
- :func:`hausdorff`: the Hausdorff distance between two vector sets under the cosine distance
  d(s, t) = 1 − cos(s, t), computed in chunks (10k × 10k vectors need no 10k × 10k matrix);
- :func:`pca_2d`: a 2-D PCA projection fitted on the union of the sets, for side-by-side plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

CHUNK_ELEMENTS = 1 << 22  # distances held at once (32 MiB in float64)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"expected a non-empty 2-D array of vectors, got shape {x.shape}")
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def hausdorff(a: np.ndarray, b: np.ndarray, chunk_elements: int = CHUNK_ELEMENTS) -> float:
    """max(max_s min_t d(s, t), max_t min_s d(s, t)) with d = 1 − cos, for vector sets ``a``
    (n × d) and ``b`` (m × d). Both directions come from one pass over row chunks of ``a``."""
    ua, ub = _unit(a), _unit(b)
    if ua.shape[1] != ub.shape[1]:
        raise ValueError(f"vector sizes differ: {ua.shape[1]} vs {ub.shape[1]}")
    rows = max(1, chunk_elements // len(ub))
    a_to_b = 0.0
    b_to_a = np.full(len(ub), np.inf)
    for s in range(0, len(ua), rows):
        d = 1.0 - ua[s : s + rows] @ ub.T
        a_to_b = max(a_to_b, float(d.min(axis=1).max()))
        np.minimum(b_to_a, d.min(axis=0), out=b_to_a)
    return max(0.0, a_to_b, float(b_to_a.max()))


def pca_2d(sets: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each set projected on the two leading principal components of all sets together (each
    component's sign fixed so that its largest loading is positive: deterministic plots)."""
    if not sets:
        raise ValueError("pca_2d needs at least one vector set")
    xs = [np.asarray(x, dtype=np.float64) for x in sets]
    allx = np.concatenate(xs)
    if allx.ndim != 2 or allx.shape[0] < 2:
        raise ValueError(f"pca_2d needs at least 2 vectors in total, got shape {allx.shape}")
    mean = allx.mean(axis=0)
    _, _, vt = np.linalg.svd(allx - mean, full_matrices=False)
    comps = np.zeros((2, allx.shape[1]))
    k = min(2, vt.shape[0])
    comps[:k] = vt[:k]
    for c in comps:
        if c.any() and c[np.argmax(np.abs(c))] < 0:
            c *= -1
    return [(x - mean) @ comps.T for x in xs]


def representations(
    model,
    spec,
    tokenizer,
    records: Sequence[Mapping],
    *,
    layer: int = -1,
    max_length: int = 128,
    batch_size: int = 64,
    device=None,
    limit: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Vectors of ``records`` from hidden layer ``layer`` (0 = embeddings … N = last; -1 last):
    token tasks give each word's first sub-word vector, sentence tasks the first-token vector
    (``spec.pooling == "first"``, [CLS]) or the mean of the real tokens (``"mean"``). With
    ``limit``, at most that many vectors, drawn with ``seed``. The model is run in eval mode.

    The vectors are taken from the layer module's output by a forward hook registered last, so
    they include whatever earlier hooks on that module changed (MetaXL's RTNs, when forced on)."""
    import torch

    from ..tasks import bucket_batches, collate, encode

    feats = encode(spec, tokenizer, records, max_length)
    if len(feats) == 0:
        raise ValueError("representations: no records")
    base = model.base_model
    blocks = base.encoder.layer
    index = len(blocks) if layer == -1 else layer
    if not 0 <= index <= len(blocks):
        raise ValueError(f"representations: layer {layer} does not exist (0 … {len(blocks)} or -1)")
    seen: list[torch.Tensor] = []

    def grab(_module, _args, output):
        seen.append(output[0] if isinstance(output, tuple) else output)

    handle = (base.embeddings if index == 0 else blocks[index - 1]).register_forward_hook(grab)
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[np.ndarray] = []
    try:
        with torch.no_grad():
            for idx in bucket_batches(feats.lengths, batch_size):
                batch = collate(feats, idx, tokenizer.pad_token_id)
                batch.pop("labels")
                batch = {k: v.to(device) for k, v in batch.items()}
                seen.clear()
                base(**batch)
                h = seen[-1].float()
                if spec.token_level:
                    for row, i in enumerate(idx):
                        out.append(h[row, feats.first_pos[i]].cpu().numpy())
                elif spec.pooling == "mean":
                    m = batch["attention_mask"].unsqueeze(-1).to(h.dtype)
                    out.append(((h * m).sum(1) / m.sum(1).clamp(min=1.0)).cpu().numpy())
                else:
                    out.append(h[:, 0].cpu().numpy())
    finally:
        handle.remove()
        model.train(was_training)
    vecs = np.concatenate(out).astype(np.float32)
    if limit is not None and len(vecs) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(len(vecs), size=limit, replace=False))
        vecs = vecs[keep]
    return vecs
