"""MetaXL: a meta-learned representation transformation for few-shot targets (seed 001, Xia et al.).

- :mod:`.settings`: the ``metaxl`` section → the grid of few-shot cells and their jobs (torch-free)
- :mod:`.metaxl`: the RTN and the bi-level step, as hooks on the one training loop
- :mod:`.report`: the main table, Tables 4 and 5, the Hausdorff table and the PCA figure
"""

from __future__ import annotations

from typing import Any

from .settings import MetaXLSettings, metaxl_settings


def settings(plan: Any, studies: Any = None) -> MetaXLSettings | None:
    return metaxl_settings(plan)


__all__ = ["settings"]
