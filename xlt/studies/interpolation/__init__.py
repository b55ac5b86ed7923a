"""Zero-shot transfer as under-specified optimisation: interpolating models (seed 002, Wu et al.).

- :mod:`.settings`: the ``interpolation`` section → endpoint and path jobs (torch-free)
- :mod:`.interpolation`: θ_bi + α₁ δ_src + α₂ δ_tgt built in place and scored
- :mod:`.report`: the 1-D and geometry tables, the 1-D, 2-D, geometry and variance figures
"""

from __future__ import annotations

from typing import Any

from .settings import InterpolationSettings, interpolation_settings


def settings(plan: Any, studies: Any = None) -> InterpolationSettings | None:
    return interpolation_settings(plan)


__all__ = ["settings"]
