"""The embedded synthetic multilingual world (the offline default of xlt)."""

from .grammar import DEPRELS, NER_LABELS, SENTIMENT_LABELS, UPOS_LABELS, Noise, Sentence
from .kinds import NLI_LABELS, QA_TYPES, RELATION_LABELS, realise_record
from .profiles import Profile, load_profiles
from .world import DATASETS, DEFAULT_DATASETS, World, WorldConfig, generate, gold_alignment

__all__ = [
    "DATASETS",
    "DEFAULT_DATASETS",
    "DEPRELS",
    "NER_LABELS",
    "NLI_LABELS",
    "QA_TYPES",
    "RELATION_LABELS",
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
    "realise_record",
]
