"""Every method of a task side by side: one protocol, the same data, encoder and seeds.

- :mod:`.settings`: what the comparison needs of each task (torch-free)
- :mod:`.report`: the comparison table (mean ± sd, resources, paired test) and figure
"""

from .settings import settings

__all__ = ["settings"]
