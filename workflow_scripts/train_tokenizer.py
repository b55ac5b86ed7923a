"""Rule train_tokenizer: a cased WordPiece vocabulary on the encoder's corpus."""

from xlt.encoder import read_corpus, train_tokenizer
from xlt.runtime import job

with job(snakemake.log[0]):
    spec = snakemake.params.spec
    texts = list(read_corpus(snakemake.input.corpus))
    train_tokenizer(
        texts, spec.get("vocab_size", 8000), snakemake.output[0], spec.get("max_length", 128)
    )
