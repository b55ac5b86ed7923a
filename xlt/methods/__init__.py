"""Training methods, one module each: a small set of hooks on the one training loop
(:mod:`xlt.train.loop`) plus the method's config dataclass.

- :mod:`xlt.methods.metaxl` — MetaXL's representation transformation network and bi-level step
- :mod:`xlt.methods.iwda` — importance-weighted domain alignment (critic, weights, KD, ST)

The multilingual warm-start of translate-train lives in :mod:`xlt.train.warmstart`.
"""
