"""Training methods, one module each: a small set of hooks on the one training loop
(:mod:`xlt.train.loop`) plus the method's config dataclass.

- :mod:`xlt.methods.metaxl` — MetaXL's representation transformation network and bi-level step
- :mod:`xlt.methods.iwda` — importance-weighted domain alignment (critic, weights, KD, ST)

The multilingual warm-start of translate-train lives in :mod:`xlt.train.warmstart`.
"""


class SeedJobs:
    """How a study's seeds map to jobs (mixed into the settings of MetaXL and IWDA).

    By default one job runs every seed of a cell in turn: on the tiny encoder a seed costs a few
    seconds, and each job pays about 6 s for its process start and the torch and transformers
    imports. With ``job_per_seed`` (a cluster, where seeds should run in parallel) each seed is
    its own job, with a ``{seed}`` wildcard in its paths. Needs ``seeds`` and ``job_per_seed``.
    """

    seeds: tuple[int, ...]
    job_per_seed: bool

    def job_seeds(self, seed=None) -> list[tuple[str, object]]:
        """``(output-key prefix, seed)`` of every seed one job runs, in order. With
        ``job_per_seed``: the ``{seed}`` wildcard, or ``seed`` (the job's wildcard value) when
        given."""
        if self.job_per_seed:
            return [("seed_", "{seed}" if seed is None else int(seed))]
        return [(f"seed{s}_", s) for s in self.seeds]

    def job_path(self, stem: str, ext: str) -> str:
        """A job's log or benchmark path: ``stem`` (+ ``/seed{seed}`` per seed) + ``ext``."""
        return f"{stem}/seed{{seed}}{ext}" if self.job_per_seed else f"{stem}{ext}"
