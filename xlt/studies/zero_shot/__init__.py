"""Zero-shot transfer: fine-tune on the source language, score every language (the candidate pool).

- :mod:`.settings`: the task grids → candidates (torch-free)
- :mod:`.report`: the per-language table and the score figure
"""

from .settings import settings

__all__ = ["settings"]
