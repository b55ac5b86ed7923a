"""Rule translate: the source training split of a dataset, translated into one language."""

from xlt.io import read_jsonl, write_json, write_jsonl
from xlt.runtime import job
from xlt.translate import TranslateConfig, attach_frames, translate_dataset, translate_sentences
from xlt.world import World

with job(snakemake.log[0]):
    p, w = snakemake.params, snakemake.wildcards
    cfg = TranslateConfig.from_config(p.cfg)
    sentence = p.kind == "sentence"  # classification: texts (and NLI pairs) with their labels
    records = read_jsonl(snakemake.input.data, kind="classification" if sentence else "tagging")
    records = attach_frames(records, snakemake.input.get("frames"))
    world = World(**p.world) if cfg.engine == "synthetic" else None
    translate = translate_sentences if sentence else translate_dataset
    translated, provenance = translate(
        records, cfg, p.source, w.lang, dataset=w.dataset, world=world, cache=p.cache
    )
    provenance["input"] = str(snakemake.input.data)
    write_jsonl(snakemake.output.data, translated)
    write_json(snakemake.output.provenance, provenance)
