"""IWDA: importance-weighted domain alignment with unlabelled target text (seed 004, Xian et al.).

- :mod:`.settings`: the ``iwda`` section → one job per (task, target) (torch-free)
- :mod:`.iwda`: the critic, the importance weights and the two-stage training, as loop hooks
- :mod:`.distill`, :mod:`.self_train`: the +KD and +ST variants
- :mod:`.prior_shift`: label-shift estimation and the re-sampled-prior study
- :mod:`.report`: the IWDA table, the shift table and figure
"""

from __future__ import annotations

from typing import Any

from .settings import IWDASettings, iwda_settings


def settings(plan: Any, studies: Any = None) -> IWDASettings | None:
    return iwda_settings(plan)


__all__ = ["settings"]
