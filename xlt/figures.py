"""Figure helpers every study shares, so that each figure reads alone in the report: one legend
outside the data (to the right of the panels, never over a point or a line), a visible caution
on a figure computed from too little data to mean much, and the atomic PNG write. Each study's
own figures live in its package (``xlt.studies.<study>.report``; LMS: ``experiments``)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .io import atomic_open

CAUTION_COLOUR = "#b00020"


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend (jobs have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def legend_outside(fig: Any, axes: Iterable[Any], order: Sequence[str] = (), **kwargs: Any) -> Any:  # fmt: skip
    """One legend for ``axes`` (entries with the same label once; labels in ``order`` first, in
    that order), to the right of the figure: outside every panel, so it covers no data
    (:func:`save` widens the image to hold it)."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label and not label.startswith("_"):
                handles.setdefault(label, h)
    if not handles:
        return None
    rank = {label: i for i, label in enumerate(order)}
    handles = dict(sorted(handles.items(), key=lambda kv: rank.get(kv[0], len(rank))))
    opts = {"fontsize": 7, "frameon": False, "loc": "upper left", "bbox_to_anchor": (1.0, 0.97)}
    return fig.legend(list(handles.values()), list(handles), **(opts | kwargs))


def caution(fig: Any, text: str) -> Any:
    """A boxed red note above the panels saying why the figure means little (too few models,
    seeds, candidates …): on the figure itself, so it travels with the image. It sits above the
    figure's top edge, wrapped to the figure's width; :func:`save` grows the image to hold it."""
    fontsize = 8
    chars = max(40, int(fig.get_figwidth() * 72 / (0.55 * fontsize)) - 4)
    return fig.text(
        0.01, 1.02, textwrap.fill(f"Caution: {text}", chars), ha="left", va="bottom",
        fontsize=fontsize, color=CAUTION_COLOUR,
        bbox={"boxstyle": "round,pad=0.4", "facecolor": "#fff4f4", "edgecolor": CAUTION_COLOUR,
              "linewidth": 1.0},
    )  # fmt: skip


def too_few(count: int, minimum: int, what: str, consequence: str) -> str | None:
    """The caution text when ``count`` < ``minimum`` (else None), e.g. ``too_few(2, 10,
    "meta-train models at most", "τ means little")`` -> "2 meta-train models at most, fewer
    than 10: τ means little."."""
    if count >= minimum:
        return None
    return f"{count} {what}, fewer than {minimum}: {consequence}."


def save(fig: Any, path: str | Path, dpi: int | None = None) -> None:
    """Lay the panels out, write the PNG atomically with every artist inside the image (legends
    and cautions outside the panels included), and free the figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)
