"""The entity-start relation classifier (seed 000 §4.4; Baldini Soares et al. 2019): an encoder whose
final-layer vectors at the ``[E1start]`` and ``[E2start]`` markers are concatenated into one linear
layer. A small ``torch.nn.Module`` around ``AutoModel``, shaped like a Hugging Face model where the
rest of xlt touches it: ``forward`` returns ``.loss`` (with ``labels``), ``.logits`` and
``.hidden_states``; ``get_input_embeddings``; ``save_pretrained`` / ``from_pretrained`` (the
encoder's ``config.json`` with the head's fields, and ``model.safetensors`` holding the whole
state dict, so the interpolation study reads it like any other model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModel
from transformers.modeling_outputs import SequenceClassifierOutput

from .base import IGNORE, quiet_transformers

HEAD = "entity-start"  # config.xlt_head of a saved model


class EntityStartModel(torch.nn.Module):
    """Encoder + linear layer over the concatenated ``[E1start]``/``[E2start]`` vectors.

    ``config`` is the encoder's configuration with ``num_labels``, ``id2label``, ``label2id``,
    ``xlt_head`` and ``xlt_markers`` (marker → id) set; ``encoder`` is built from it when not given.
    """

    def __init__(self, config, encoder: torch.nn.Module | None = None):
        super().__init__()
        self.config = config
        self.encoder = encoder if encoder is not None else AutoModel.from_config(config)
        hidden = config.hidden_size
        self.dropout = torch.nn.Dropout(getattr(config, "hidden_dropout_prob", 0.1))
        self.classifier = torch.nn.Linear(2 * hidden, config.num_labels)

    @classmethod
    def from_encoder(
        cls,
        encoder_dir: str,
        labels: Sequence[str],
        markers: Mapping[str, int],
        seed: int,
    ) -> EntityStartModel:
        """The pretrained encoder with room for the marker ids and a new head, deterministic for
        ``seed``: new embedding rows = mean + std · N(0, 1) of the existing rows (per dimension),
        head weights N(0, initializer_range), bias 0, drawn from a generator seeded by ``seed``."""
        torch.manual_seed(seed)
        with quiet_transformers():
            encoder = AutoModel.from_pretrained(encoder_dir)
        gen = torch.Generator().manual_seed(seed)
        rows = encoder.get_input_embeddings().weight.shape[0]
        need = max(rows, max(markers.values()) + 1)
        if need > rows:
            encoder.resize_token_embeddings(need, mean_resizing=False)
            with torch.no_grad():
                weight = encoder.get_input_embeddings().weight
                old = weight[:rows]
                noise = torch.randn(need - rows, weight.shape[1], generator=gen)
                weight[rows:] = old.mean(0) + old.std(0) * noise.to(weight.dtype)
        config = encoder.config
        config.num_labels = len(labels)
        config.id2label = dict(enumerate(labels))
        config.label2id = {lab: i for i, lab in enumerate(labels)}
        config.xlt_head = HEAD
        config.xlt_markers = dict(markers)
        model = cls(config, encoder)
        with torch.no_grad():
            std = getattr(config, "initializer_range", 0.02)
            model.classifier.weight.copy_(torch.randn(model.classifier.weight.shape, generator=gen) * std)  # fmt: skip
            model.classifier.bias.zero_()
        return model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        e1_pos: torch.Tensor | None = None,
        e2_pos: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> SequenceClassifierOutput:
        if e1_pos is None or e2_pos is None:
            raise ValueError("the entity-start model needs e1_pos and e2_pos (the start markers)")
        out = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            output_hidden_states=output_hidden_states,
        )
        h = out.last_hidden_state
        rows = torch.arange(h.shape[0], device=h.device)
        pair = torch.cat([h[rows, e1_pos], h[rows, e2_pos]], dim=-1)
        logits = self.classifier(self.dropout(pair))
        loss = None
        if labels is not None:
            loss = torch.nn.functional.cross_entropy(logits.float(), labels, ignore_index=IGNORE)
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states)

    @property
    def base_model(self) -> torch.nn.Module:
        """The encoder under the head (as a Hugging Face model's ``base_model``)."""
        return self.encoder

    def get_input_embeddings(self) -> torch.nn.Module:
        return self.encoder.get_input_embeddings()

    def save_pretrained(self, save_directory: str | Path) -> None:
        """``config.json`` and ``model.safetensors`` (the whole state dict) in ``save_directory``."""
        from safetensors.torch import save_model

        out = Path(save_directory)
        out.mkdir(parents=True, exist_ok=True)
        self.config.save_pretrained(out)
        save_model(self, str(out / "model.safetensors"))

    @classmethod
    def from_pretrained(cls, model_dir: str | Path) -> EntityStartModel:
        """A model written by :meth:`save_pretrained`."""
        from safetensors.torch import load_model

        config = AutoConfig.from_pretrained(str(model_dir))
        if getattr(config, "xlt_head", None) != HEAD:
            raise ValueError(
                f"{model_dir}: not an entity-start relation model (config.json has no "
                f"xlt_head: {HEAD}); it was not written by EntityStartModel.save_pretrained"
            )
        with quiet_transformers():
            model = cls(config)
        load_model(model, str(Path(model_dir) / "model.safetensors"))
        return model
