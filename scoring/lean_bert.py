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

# The packed token count is rounded up to a multiple of this (with copies of real tokens):
# oneDNN compiles a GELU kernel per shape it meets, and a worker meeting every count from 1 to
# 1,024 grew by ~120 MB; with multiples of 64 it meets at most 16.
PACK_ROWS = 64


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
        self.qkv: nn.Linear | None = None

    def fuse(self) -> None:
        """One linear layer for query, key and value (the weights stacked, the three dropped):
        one matrix product per layer instead of three, and with dynamic int8 one quantisation
        of its input instead of three."""
        parts = (self.query, self.key, self.value)
        weight = torch.cat([p.weight.detach() for p in parts])
        bias = torch.cat([p.bias.detach() for p in parts])
        self.qkv = nn.Linear(weight.shape[1], weight.shape[0], dtype=weight.dtype)
        self.qkv.weight, self.qkv.bias = nn.Parameter(weight), nn.Parameter(bias)
        del self.query, self.key, self.value


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

    def forward(
        self, x: torch.Tensor, real: torch.Tensor, keep: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """`x`: the batch's tokens packed (tokens × hidden): its real tokens, then copies of a
        few of them; `real`: where the real ones sit in the padded batch (flat positions);
        `keep`: where each row of `x` comes from; `mask`: the additive key mask (batch × 1 ×
        1 × n). Every linear layer, GELU and LayerNorm runs on the packed rows only; attention
        alone needs the padded shape, and gets it by scattering into zeros and gathering back."""
        a = self.attention.self
        b, n = mask.shape[0], mask.shape[-1]
        d = x.shape[-1]
        h = a.heads

        def padded(t: torch.Tensor) -> torch.Tensor:
            rows = t.narrow(0, 0, real.shape[0])
            return t.new_zeros(b * n, t.shape[-1]).index_copy_(0, real, rows)

        if a.qkv is not None:
            q, k, v = padded(a.qkv(x)).view(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        else:
            q, k, v = (
                padded(t).view(b, n, h, d // h).transpose(1, 2)
                for t in (a.query(x), a.key(x), a.value(x))
            )
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        context = context.transpose(1, 2).reshape(b * n, d).index_select(0, keep)
        out = self.attention.output
        x = out.LayerNorm(out.dense(context) + x)
        inner = F.gelu(self.intermediate.dense(x))
        return self.output.LayerNorm(self.output.dense(inner) + x)


class _Encoder(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_layers))

    def fuse(self) -> None:
        layer: Any
        for layer in self.layer:
            layer.attention.self.fuse()


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
        b, n, d = x.shape
        # Additive mask over the keys, as BertModel builds it: padding gets the dtype's minimum.
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        # Padding is a third of a batch of tweets even sorted by length: drop it before the
        # layers (whose every token is computed alone but attention's) and put zeros back after.
        # Copies of the first few real tokens fill the count up to a multiple of PACK_ROWS:
        # copies, not padding tokens, so int8's per-batch scale sees only real activations.
        flat = attention_mask.reshape(-1)
        count = flat.sum()
        real = flat.nonzero().squeeze(1)
        copies = (torch.arange(PACK_ROWS) < (-count) % PACK_ROWS).nonzero().squeeze(1)
        keep = torch.cat([real, real.index_select(0, copies % count)])
        packed = x.reshape(b * n, d).index_select(0, keep)
        for layer in self.encoder.layer:
            packed = layer(packed, real, keep, mask)
        hidden = x.new_zeros(b * n, d).index_copy_(0, real, packed.narrow(0, 0, real.shape[0]))
        hidden = hidden.view(b, n, d)
        return _Output(last_hidden_state=hidden)


class _Output(dict):
    @property
    def last_hidden_state(self) -> torch.Tensor:
        return self["last_hidden_state"]


def load_encoder(
    path: Path,
    dtype: torch.dtype,
    num_layers: int | None = None,
    intermediate_size: int | None = None,
) -> LeanBert:
    """The encoder of the model directory `path` (config.json, model.safetensors), its weights
    read tensor by tensor straight into `dtype` (no fp32 copy of the whole model); with
    `num_layers`, only that many layers (a distilled student's, whose weights replace them);
    with a narrower `intermediate_size` (a pruned student's), the layers are left empty
    (on the meta device) for the student's own weights to be assigned."""
    config = json.loads((path / "config.json").read_text())
    if num_layers is not None:
        config["num_hidden_layers"] = num_layers
    pruned = intermediate_size not in (None, config["intermediate_size"])
    if pruned:
        config["intermediate_size"] = intermediate_size
    with torch.device("meta"):
        encoder = LeanBert(config)
    state = {}
    with safe_open(str(path / "model.safetensors"), framework="pt") as f:
        for name in f.keys():  # noqa: SIM118 (not a dict)
            if name.startswith(("embeddings.", "encoder.")) and name != "embeddings.position_ids":
                layer = name.split(".")[2] if name.startswith("encoder.layer.") else None
                if layer is None or (not pruned and int(layer) < encoder.config.num_layers):
                    state[name] = f.get_tensor(name).to(dtype)
    encoder.load_state_dict(state, assign=True, strict=not pruned)
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
