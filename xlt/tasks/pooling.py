"""Mean pooling for sequence classification (``pooling: mean``): the encoder's own pooler applied
to the mean of the real tokens' vectors instead of the first token's."""

from __future__ import annotations

import torch


class MeanPooler(torch.nn.Module):
    """The encoder's own pooler (dense + tanh) applied to the mean of the real tokens."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner
        self.mask: torch.Tensor | None = None

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        mask = self.mask if self.mask is not None else torch.ones(hidden_states.shape[:2])
        m = mask.to(hidden_states.device, hidden_states.dtype).unsqueeze(-1)
        mean = (hidden_states * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.inner(mean.unsqueeze(1))


def mean_pool(model, encoder_dir: str) -> None:
    """Replace the encoder's pooler input (the first token) by the mean of the real tokens."""
    base = model.base_model
    if isinstance(getattr(base, "pooler", None), MeanPooler):
        return
    if getattr(base, "pooler", None) is None:
        raise ValueError(
            f"pooling: mean needs an encoder with a pooler layer (BERT family); {encoder_dir} has "
            "none. Set the task's pooling to 'first'."
        )
    base.pooler = MeanPooler(base.pooler)

    # on the encoder itself, so a direct call of the base model (representations, MetaXL's
    # functional steps) refreshes the mask as well as a call of the whole model; it finds the
    # pooler through the module it is called on, so a deep copy of the model keeps working
    base.register_forward_pre_hook(remember_mask, with_kwargs=True)


def remember_mask(module, args, kwargs) -> None:
    """Forward pre-hook of a mean-pooled encoder: hand this call's attention mask to its pooler."""
    module.pooler.mask = kwargs.get("attention_mask", args[1] if len(args) > 1 else None)
