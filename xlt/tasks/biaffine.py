"""The biaffine dependency parser of Dozat & Manning (2017) on a pretrained encoder.

Each word is represented by its first sub-word's final-layer vector; the sequence's first token
([CLS] / ``<s>``) stands for the root. Four MLPs (one linear layer, LeakyReLU, dropout) project
these vectors into arc-dependent, arc-head, relation-dependent and relation-head spaces:

- arc score ``s[d, h] = a_d^T U a'_h + u^T a'_h`` (a biaffine map: the bilinear term plus a head
  prior), over the root and every word of the sentence as candidate heads of word ``d``;
- relation scores ``r[d, h, l] = [r_d; 1]^T W_l [r'_h; 1]`` (bilinear with both biases).

Loss: cross-entropy of each word's gold head among the candidates, plus cross-entropy of its
gold relation given its *gold* head (as the paper trains). The output's ``logits`` hold both, as
``(batch, words, 1 + words, 1 + relations)``: ``[..., 0]`` the arc scores and ``[..., 1:]`` the
relation scores of each (dependent, head) pair, so decoding can choose the tree first (MST, see
:func:`xlt.tasks.parsing.decode_heads`) and then each word's relation at its chosen head.

:class:`BiaffineParser` saves and loads like a Hugging Face model (``save_pretrained``: the
encoder's ``config.json``, ``model.safetensors`` with the whole state dict, ``parser.json``), so
``finetune.keep_weights`` and the interpolation study (which reads ``model.safetensors``) work.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .base import IGNORE

PARSER_FILE = "parser.json"


@dataclass(frozen=True)
class ParserConfig:
    """Sizes of the parser's head (the paper: arc 500, relation 100, dropout 0.33)."""

    labels: tuple[str, ...]
    arc_dim: int = 256
    rel_dim: int = 128
    dropout: float = 0.33


@dataclass
class ParserOutput:
    loss: torch.Tensor | None
    logits: torch.Tensor  # (batch, words, 1 + words, 1 + relations)
    hidden_states: tuple[torch.Tensor, ...] | None = None


class MLP(nn.Module):
    def __init__(self, dim_in: int, dim_out: int, dropout: float):
        super().__init__()
        self.linear = nn.Linear(dim_in, dim_out)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(F.leaky_relu(self.linear(x), 0.1))


class BiaffineParser(nn.Module):
    """An encoder (``transformers.AutoModel``) with a biaffine arc and relation scorer."""

    def __init__(self, encoder: nn.Module, cfg: ParserConfig):
        super().__init__()
        self.encoder = encoder
        self.parser_config = cfg
        hidden = int(encoder.config.hidden_size)
        n_rel = len(cfg.labels)
        self.arc_dep = MLP(hidden, cfg.arc_dim, cfg.dropout)
        self.arc_head = MLP(hidden, cfg.arc_dim, cfg.dropout)
        self.rel_dep = MLP(hidden, cfg.rel_dim, cfg.dropout)
        self.rel_head = MLP(hidden, cfg.rel_dim, cfg.dropout)
        # zero-initialised bilinear weights, as the paper's (every arc scores 0 at first)
        self.arc_u = nn.Parameter(torch.zeros(cfg.arc_dim, cfg.arc_dim))
        self.arc_bias = nn.Parameter(torch.zeros(cfg.arc_dim))
        self.rel_w = nn.Parameter(torch.zeros(n_rel, cfg.rel_dim + 1, cfg.rel_dim + 1))

    # the encoder's identity, for code written against Hugging Face models (embedding freezing,
    # MetaXL's layer hooks, representation analysis)
    @property
    def config(self):
        return self.encoder.config

    @property
    def base_model(self) -> nn.Module:
        return self.encoder

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_pos: torch.Tensor,
        word_mask: torch.Tensor,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        **kwargs: Any,
    ) -> ParserOutput:
        """``word_pos`` (batch, words): each word's first sub-word position (0 where padded);
        ``word_mask``: real words; ``labels`` (batch, words, 2): gold head (0 = root, ``k`` = the
        k-th word) and relation id per word, IGNORE where not trained on."""
        out = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            output_hidden_states=output_hidden_states,
            **kwargs,
        )
        h = out.last_hidden_state
        # candidates: position 0 (the root) and every word's first sub-word
        pos = torch.cat([torch.zeros_like(word_pos[:, :1]), word_pos], dim=1)
        nodes = torch.gather(h, 1, pos.unsqueeze(-1).expand(-1, -1, h.shape[-1]))
        words = nodes[:, 1:]
        arc_d, arc_h = self.arc_dep(words), self.arc_head(nodes)
        arc = torch.einsum("bdi,ij,bhj->bdh", arc_d, self.arc_u, arc_h)
        arc = arc + (arc_h @ self.arc_bias).unsqueeze(1)
        head_ok = torch.cat([torch.ones_like(word_mask[:, :1]), word_mask], dim=1).bool()
        arc = arc.masked_fill(~head_ok.unsqueeze(1), torch.finfo(arc.dtype).min / 2)
        ones = lambda x: torch.cat([x, torch.ones_like(x[..., :1])], dim=-1)  # noqa: E731
        rel_d, rel_h = ones(self.rel_dep(words)), ones(self.rel_head(nodes))
        rel = torch.einsum("bdi,lij,bhj->bdhl", rel_d, self.rel_w, rel_h)
        logits = torch.cat([arc.unsqueeze(-1), rel], dim=-1)
        loss = None
        if labels is not None:
            loss = self.loss(arc, rel, labels)
        hidden = out.hidden_states if output_hidden_states else None
        return ParserOutput(loss, logits, hidden)

    @staticmethod
    def loss(arc: torch.Tensor, rel: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        heads, rels = labels[..., 0], labels[..., 1]
        keep = heads != IGNORE
        arc_loss = F.cross_entropy(arc[keep].float(), heads[keep])
        at_gold = rel[keep, :, :][torch.arange(int(keep.sum()), device=rel.device), heads[keep]]
        labelled = rels[keep] != IGNORE
        rel_loss = (
            F.cross_entropy(at_gold[labelled].float(), rels[keep][labelled])
            if labelled.any()
            else at_gold.sum() * 0.0
        )
        return arc_loss + rel_loss

    # --- saving and loading (Hugging Face style) ----------------------------------------------
    def save_pretrained(self, save_directory: str | Path, **_: Any) -> None:
        """``config.json`` (the encoder's), ``parser.json`` and ``model.safetensors``."""
        from safetensors.torch import save_model

        d = Path(save_directory)
        d.mkdir(parents=True, exist_ok=True)
        self.encoder.config.save_pretrained(d)
        cfg = asdict(self.parser_config) | {"labels": list(self.parser_config.labels)}
        (d / PARSER_FILE).write_text(json.dumps(cfg, indent=1) + "\n", encoding="utf-8")
        save_model(self, str(d / "model.safetensors"))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> BiaffineParser:
        """A parser saved by :meth:`save_pretrained`."""
        from safetensors.torch import load_model
        from transformers import AutoConfig, AutoModel

        d = Path(directory)
        raw = json.loads((d / PARSER_FILE).read_text(encoding="utf-8"))
        cfg = ParserConfig(**{**raw, "labels": tuple(raw["labels"])})
        config = AutoConfig.from_pretrained(d)
        try:
            encoder = AutoModel.from_config(config, add_pooling_layer=False)
        except TypeError:
            encoder = AutoModel.from_config(config)
        model = cls(encoder, cfg)
        load_model(model, str(d / "model.safetensors"))
        return model


def build_parser(encoder_dir: str, labels: tuple[str, ...], seed: int) -> BiaffineParser:
    """The encoder's weights with a fresh head initialised from ``seed``."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    torch.manual_seed(seed)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        try:  # the pooler (BERT, XLM-R) is never used by the parser
            encoder = AutoModel.from_pretrained(encoder_dir, add_pooling_layer=False)
        except TypeError:
            encoder = AutoModel.from_pretrained(encoder_dir)
    finally:
        hf_logging.set_verbosity(verbosity)
    return BiaffineParser(encoder, ParserConfig(labels=tuple(labels)))
