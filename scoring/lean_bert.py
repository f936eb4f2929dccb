"""The inference half of sentibot's transformer without the `transformers` library: a BERT
encoder in plain torch (the same parameter names, so the same weights load), the fast
tokenizer straight from `tokenizers`, and weights read in the precision they run in.

A scoring worker then holds torch, one copy of the weights and the tokenizer; training
(`scoring/train.py`) still uses `transformers`. `tests/scoring/test_lean_bert.py` checks that
this encoder gives the same outputs as transformers' BertModel on the same weights.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from torch import nn
from torch.nn import functional as F  # noqa: N812


class _Config:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.hidden_size = int(raw["hidden_size"])
        self.num_heads = int(raw["num_attention_heads"])
        self.num_layers = int(raw["num_hidden_layers"])
        self.intermediate_size = int(raw["intermediate_size"])
        self.vocab_size = int(raw["vocab_size"])
        self.max_positions = int(raw["max_position_embeddings"])
        self.type_vocab_size = int(raw.get("type_vocab_size", 2))
        self.eps = float(raw.get("layer_norm_eps", 1e-12))
        if raw.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"unsupported activation {raw.get('hidden_act')!r}")


class _Embeddings(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embeddings = nn.Embedding(c.max_positions, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.eps)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        x = x + self.token_type_embeddings.weight[0]  # one segment: token type 0 everywhere
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.heads = c.num_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)


class _Dense(nn.Module):
    def __init__(self, n_in: int, n_out: int, eps: float | None = None) -> None:
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)
        if eps is not None:
            self.LayerNorm = nn.LayerNorm(n_out, eps=eps)


class _Attention(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _Dense(c.hidden_size, c.hidden_size, c.eps)


class _Layer(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Dense(c.hidden_size, c.intermediate_size)
        self.output = _Dense(c.intermediate_size, c.hidden_size, c.eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        a = self.attention.self
        b, n, d = x.shape
        h = a.heads

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, h, d // h).transpose(1, 2)

        context = F.scaled_dot_product_attention(
            heads(a.query(x)), heads(a.key(x)), heads(a.value(x)), attn_mask=mask
        )
        context = context.transpose(1, 2).reshape(b, n, d)
        out = self.attention.output
        x = out.LayerNorm(out.dense(context) + x)
        inner = F.gelu(self.intermediate.dense(x))
        return self.output.LayerNorm(self.output.dense(inner) + x)


class _Encoder(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_layers))


class LeanBert(nn.Module):
    """BertModel's forward for sentence encoding: embeddings, then the layers; returns
    `{"last_hidden_state": …}` as transformers does."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config = _Config(config)
        self.embeddings = _Embeddings(self.config)
        self.encoder = _Encoder(self.config)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        x = self.embeddings(input_ids)
        # Additive mask over the keys, as BertModel builds it: padding gets the dtype's minimum.
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return _Output(last_hidden_state=x)


class _Output(dict):
    @property
    def last_hidden_state(self) -> torch.Tensor:
        return self["last_hidden_state"]


def load_encoder(path: Path, dtype: torch.dtype, num_layers: int | None = None) -> LeanBert:
    """The encoder of the model directory `path` (config.json, model.safetensors), its weights
    read tensor by tensor straight into `dtype` (no fp32 copy of the whole model); with
    `num_layers`, only that many layers (a distilled student's, whose weights replace them)."""
    config = json.loads((path / "config.json").read_text())
    if num_layers is not None:
        config["num_hidden_layers"] = num_layers
    with torch.device("meta"):
        encoder = LeanBert(config)
    state = {}
    with safe_open(str(path / "model.safetensors"), framework="pt") as f:
        for name in f.keys():  # noqa: SIM118 (not a dict)
            if name.startswith(("embeddings.", "encoder.")) and name != "embeddings.position_ids":
                layer = name.split(".")[2] if name.startswith("encoder.layer.") else None
                if layer is None or int(layer) < encoder.config.num_layers:
                    state[name] = f.get_tensor(name).to(dtype)
    encoder.load_state_dict(state, assign=True)
    return encoder


class LeanTokenizer:
    """The model's fast tokenizer (tokenizer.json) behind the call transformers' tokenizers
    answer: `tok(texts, padding=True, truncation=True, max_length=…, return_tensors="pt")`."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._pad_id = self._tok.token_to_id("[PAD]") or 0

    def __call__(
        self,
        texts: list[str],
        padding: bool = True,
        truncation: bool = True,
        max_length: int = 512,
        return_tensors: str = "pt",
        pad_to_multiple_of: int | None = None,
    ) -> dict[str, torch.Tensor]:
        self._tok.no_padding()
        if truncation:
            self._tok.enable_truncation(max_length)
        else:
            self._tok.no_truncation()
        encoded = self._tok.encode_batch(texts)
        longest = max(len(e.ids) for e in encoded)
        if pad_to_multiple_of:
            longest = math.ceil(longest / pad_to_multiple_of) * pad_to_multiple_of
        ids = torch.full((len(encoded), longest), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(encoded), longest), dtype=torch.long)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = torch.tensor(e.ids, dtype=torch.long)
            mask[row, : len(e.ids)] = 1
        return {"input_ids": ids, "attention_mask": mask}
