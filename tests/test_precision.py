"""finetune.precision: auto chooses bf16 only where the hardware multiplies bfloat16 natively and
the encoder is a real one; the choice and its reason are in every candidate's record."""

from __future__ import annotations

import pytest

from xlt.train import precision as P


@pytest.fixture
def cpu(monkeypatch):
    """Pretend the CPU has the given bf16 flags."""

    def set_flags(*flags):
        monkeypatch.setattr(
            P, "cpu_info", lambda: {"model": "test CPU", "bf16_flags": sorted(flags)}
        )

    return set_flags


def test_auto_takes_bf16_on_amx_or_avx512_bf16_for_real_encoders(cpu):
    cpu("amx_bf16")
    r = P.resolve("auto", "cpu", "bundled")
    assert r["used"] == "bf16" and "amx_bf16" in r["reason"] and r["cpu"]["model"] == "test CPU"
    cpu("avx512_bf16")
    assert P.resolve("auto", "cpu", "hub")["used"] == "bf16"
    assert P.resolve("auto", "cpu", None)["used"] == "bf16"  # unknown encoder: treated as real


def test_auto_falls_back_to_fp32_without_bf16_units_and_for_the_tiny_encoder(cpu):
    cpu()
    r = P.resolve("auto", "cpu", "bundled")
    assert r["used"] == "fp32" and r["reason"] == "no native bf16 matrix units"
    cpu("amx_bf16")
    assert P.resolve("auto", "cpu", "tiny")["used"] == "fp32"


def test_explicit_precisions_are_kept_and_unknown_ones_refused(cpu):
    cpu()
    assert P.resolve("bf16", "cpu", "tiny") | {"cpu": None} == {
        "requested": "bf16", "used": "bf16", "reason": "as configured", "device": "cpu", "cpu": None,
    }  # fmt: skip
    with pytest.raises(ValueError, match="finetune.precision must be one of"):
        P.resolve("bf8", "cpu", "tiny")


def test_cpu_flags_are_read_from_the_machine():
    info = P.cpu_info()
    assert set(info) == {"model", "bf16_flags"}
    assert set(info["bf16_flags"]) <= set(P.BF16_CPU_FLAGS)


def test_auto_keeps_fp32_for_task_kinds_without_bf16_parity(cpu):
    """bf16 was within tolerance of fp32 on UD POS only (docs/real-data.md): NER and
    classification missed on some languages, QA, relations and parsing are unmeasured; auto
    trains those in fp32 and says why, and an explicit bf16 is kept."""
    cpu("amx_bf16")
    assert P.resolve("auto", "cpu", "bundled", "tagging")["used"] == "bf16"
    for kind in ("ner", "classification", "qa", "relation", "parsing"):
        r = P.resolve("auto", "cpu", "bundled", kind)
        assert r["used"] == "fp32" and f"task kind '{kind}'" in r["reason"], kind
        assert "precision: bf16" in r["reason"]
        assert P.resolve("bf16", "cpu", "bundled", kind)["used"] == "bf16"
    cpu()
    assert P.resolve("auto", "cpu", "bundled", "tagging")["used"] == "fp32"


def test_a_candidate_config_passes_its_task_kind_to_the_choice(cpu):
    from xlt.finetune import FinetuneConfig

    cpu("avx512_bf16")
    common = {"labels": ["a"], "lr": 1e-4, "epochs": 1, "batch_size": 2, "seed": 1, "device": "cpu", "encoder_kind": "bundled"}  # fmt: skip
    assert FinetuneConfig(kind="tagging", **common).precision_info()["used"] == "bf16"
    assert FinetuneConfig(kind="ner", **common).precision_info()["used"] == "fp32"
    assert FinetuneConfig(kind="parsing", **common).precision_info()["used"] == "fp32"
    assert FinetuneConfig(kind="parsing", **common).loop().precision == "fp32"
