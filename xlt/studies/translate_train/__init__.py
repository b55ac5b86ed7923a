"""Translate-train with label projection and the multilingual warm-start (seed 003, Li et al.).

- :mod:`.settings`: the ``translate`` / ``adapt`` sections and the tasks' translate-train methods
  → candidates and files (torch-free)
- :mod:`.warmstart`: MTL-WS, the warm-start hook on the one training loop
- :mod:`.report`: Table 1 (methods) and Table 5 (projection ablation) layouts

Translation, alignment and projection themselves are library code (:mod:`xlt.translate`).
"""

from .settings import settings

__all__ = ["settings"]
