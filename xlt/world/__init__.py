"""The embedded synthetic multilingual world (the offline default of xlt)."""

from .grammar import NER_LABELS, SENTIMENT_LABELS, UPOS_LABELS, Noise, Sentence
from .profiles import Profile, load_profiles
from .world import DATASETS, World, WorldConfig, generate, gold_alignment

__all__ = [
    "DATASETS",
    "NER_LABELS",
    "SENTIMENT_LABELS",
    "UPOS_LABELS",
    "Noise",
    "Profile",
    "Sentence",
    "World",
    "WorldConfig",
    "generate",
    "gold_alignment",
    "load_profiles",
]
