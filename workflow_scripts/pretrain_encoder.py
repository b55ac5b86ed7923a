"""Rule pretrain_encoder: masked-LM pretraining of a tiny BERT (packed, masked-only logits)."""

from xlt.encoder import PretrainConfig, TinyBertConfig, pretrain, read_texts
from xlt.runtime import job

with job(snakemake.log[0], snakemake.threads):
    spec = snakemake.params.spec
    size = TinyBertConfig(**{k: spec[k] for k in TinyBertConfig.__dataclass_fields__ if k in spec})
    cfg = PretrainConfig(
        **spec.get("pretrain", {}),
        seed=snakemake.params.seed,
        device=snakemake.params.device,
        precision=snakemake.params.precision,
    )
    corpora = [list(read_texts(path)) for path in snakemake.input.corpus]  # one per language
    pretrain(snakemake.input.tokenizer, corpora, size, cfg, snakemake.output[0])
