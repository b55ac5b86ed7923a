"""The synthetic world's existing datasets are pinned: new task kinds must not move a byte of them.

The digest below was computed on the code before the QA, NLI, relation and parsing datasets were
added (commit 2f8e30f); the default run's numbers depend on these files being unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from xlt.world import WorldConfig, generate

ALL_LANGS = ("en", "de", "nl", "es", "pt", "ru", "ar", "hi", "zh", "tr", "af", "qu", "tt")
PINNED = "e76413c3548a01b0709651aa8cacb38c7aa40890c5774c28da9b1bc4d1f7eeea"


def _world_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.json*")):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def pinned_config(**extra) -> WorldConfig:
    """Every default profile, every knob of the existing datasets (priors, entity shift)."""
    return WorldConfig(
        languages=ALL_LANGS,
        seed=7,
        sizes={"train": 40, "dev": 10, "test": 10},
        unlabelled=60,
        parallel=20,
        sentiment_priors={"default": {"positive": 2, "negative": 1, "neutral": 1}},
        entity_priors={"zh": {"train": {"PER": 4.0, "LOC": 0.25}}},
        **extra,
    )


def test_existing_datasets_are_byte_identical_to_the_pinned_world(tmp_path):
    generate(pinned_config(), tmp_path)
    assert _world_digest(tmp_path) == PINNED
