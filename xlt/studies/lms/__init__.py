"""Learned model selection for zero-shot cross-lingual transfer (seed 000, Chen & Ritter).

- :mod:`.settings`: the ``lms`` section, validated against the plan (torch-free)
- :mod:`.lms`: the learned scorer, leave-one-language-out training and selection
  (:class:`~.lms.LMSConfig`, :class:`~.lms.LMS`, :func:`~.lms.run_groups`)
- :mod:`.baselines`: En-Dev, Pivot-Dev, k-Target (100-Target), All-Target
- :mod:`.langvec`: lang2vec language vectors with an explicit ISO 639-1 -> 639-3 map
- :mod:`.experiments`: the paper's runs, tables (2, 3, 4, 7, 10) and figures (2-4)
- :mod:`.bench`: synthetic pools (:func:`~.bench.make_synthetic_pool`) and :func:`~.bench.bench_lms`
"""

from .settings import settings

__all__ = ["settings"]
