"""Model selection for zero-shot cross-lingual transfer: LMS (Chen & Ritter) and its baselines.

- :mod:`xlt.select.lms`: the learned scorer, leave-one-language-out training and selection
  (:class:`LMSConfig`, :class:`LMS`, :func:`run_groups`);
- :mod:`xlt.select.baselines`: En-Dev, Pivot-Dev, k-Target (100-Target), All-Target;
- :mod:`xlt.select.langvec`: lang2vec language vectors with an explicit ISO 639-1 -> 639-3 map;
- :mod:`xlt.select.experiments`: the paper's runs, tables (2, 3, 4, 7, 10) and figures (2-4);
- :mod:`xlt.select.bench`: synthetic pools (:func:`make_synthetic_pool`) and :func:`bench_lms`.
"""

from .bench import bench_lms, make_synthetic_pool, pool_from_matrices
from .lms import LMS, GroupResult, LMSConfig, params_for, run_groups

__all__ = [
    "LMS",
    "GroupResult",
    "LMSConfig",
    "bench_lms",
    "make_synthetic_pool",
    "params_for",
    "pool_from_matrices",
    "run_groups",
]
