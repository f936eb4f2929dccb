"""Transformer scorers: any local Hugging Face classifier (tiny models saved here), the label
mappings, the offline rules, and training that rebuilds loadable weights."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from scoring import get_scorer
from scoring.transformer import (
    WEIGHTS,
    TransformerScorer,
    base_model_path,
    default_scorer,
    hf_scorer,
    label_map_for,
    load_default,
    load_lean,
    normalize,
    weights_metadata,
)
from sentibot.sentiment import LABELS, UnknownModel

TEXTS = ["I love this!", "worst day ever", "the train leaves at 9", "", "ok " * 200]


def tiny_classifier(tmp_path: Path, id2label: dict[int, str], favour: int) -> Path:
    """A 2-layer BERT classifier whose head always prefers label `favour`."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.bias[favour] = 8.0
    path = tmp_path / f"tiny-{len(id2label)}"
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(base_model_path(), local_files_only=True).save_pretrained(path)
    return path


@pytest.mark.parametrize(
    ("id2label", "favour", "expected"),
    [
        ({0: "NEGATIVE", 1: "POSITIVE"}, 1, "positive"),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, 0, "negative"),
        ({0: "negative", 1: "neutral", 2: "positive"}, 1, "neutral"),
        ({i: f"{i + 1} star{'s' if i else ''}" for i in range(5)}, 4, "positive"),
        ({i: f"{i + 1} stars" for i in range(5)}, 2, "neutral"),
    ],
)
def test_hf_models_of_any_label_scheme_map_to_three_classes(
    tmp_path: Path, id2label: dict[int, str], favour: int, expected: str
) -> None:
    path = tiny_classifier(tmp_path, id2label, favour)
    scorer = get_scorer(f"hf:{path}")
    assert scorer.name == f"hf:{path}"
    results = scorer.score(TEXTS)
    assert len(results) == len(TEXTS)
    for r in results:
        assert r.label == expected
        assert r.negative + r.neutral + r.positive == pytest.approx(1.0, abs=1e-4)
        assert r.compound == pytest.approx(r.positive - r.negative, abs=1e-5)


def test_label_map_rejects_what_it_cannot_map() -> None:
    with pytest.raises(UnknownModel, match="cannot map"):
        label_map_for({0: "joy", 1: "anger", 2: "fear", 3: "surprise"})
    assert label_map_for({0: "NEG", 1: "NEU", 2: "POS"}).tolist() == torch.eye(3).tolist()


@pytest.mark.parametrize("name", ["hf:/no/such/model", "hf:some-org/not-in-any-cache"])
def test_a_missing_model_is_a_clear_error_not_a_network_wait(name: str) -> None:
    started = time.monotonic()
    with pytest.raises(UnknownModel, match="not available offline"):
        hf_scorer(name[3:])
    assert time.monotonic() - started < 10


def test_normalize_matches_tweeteval_preprocessing() -> None:
    assert (
        normalize("@Acme  your app http://x.co/1 broke @bob!") == "@user your app http broke @user!"
    )
    assert normalize("mail me at a@b.com") == "mail me at a@b.com"


def _tiny_tweeteval(tmp_path: Path) -> Path:
    """A TweetEval-shaped folder of 48 obvious tweets (the same for train and val)."""
    data = tmp_path / "data"
    data.mkdir()
    pos = [f"I love it, wonderful day {i}" for i in range(16)]
    neg = [f"I hate this, awful mess {i}" for i in range(16)]
    neu = [f"the meeting is at {i} pm" for i in range(16)]
    texts, labels = pos + neg + neu, ["2"] * 16 + ["0"] * 16 + ["1"] * 16
    for split in ("train", "val"):
        (data / f"{split}_text.txt").write_text("\n".join(texts) + "\n")
        (data / f"{split}_labels.txt").write_text("\n".join(labels) + "\n")
    return data


@pytest.mark.training
def test_training_writes_weights_that_load_and_score(tmp_path: Path) -> None:
    from scoring.train import train

    data = _tiny_tweeteval(tmp_path)
    out = tmp_path / "w.safetensors"
    metrics = train(data, out, epochs=3, batch_size=16, lr=2e-4, freeze=4)
    assert out.exists()
    assert out.stat().st_size < 10_000_000  # two fp16 layers and a head
    assert metrics["macro_recall"] > 0.9
    tokenizer, net = load_default(out)
    labels_out = [
        s.label for s in TransformerScorer(tokenizer, net).score(["I love it, wonderful"])
    ]
    assert labels_out == ["positive"]


@pytest.mark.training
def test_distilling_writes_a_shallower_network_that_loads_and_scores(tmp_path: Path) -> None:
    from scoring.distill import distill
    from scoring.lean_bert import LeanBert

    data = _tiny_tweeteval(tmp_path)
    out = tmp_path / "student.safetensors"
    metrics = distill(data, out, keep=[0, 5], epochs=2, batch_size=16)
    assert metrics["macro_recall"] > 0.9
    tokenizer, net = load_lean(out)
    assert isinstance(net.encoder, LeanBert)
    assert len(net.encoder.encoder.layer) == 2
    scorer = TransformerScorer(tokenizer, net)
    assert [s.label for s in scorer.score(["I love it, wonderful", "I hate this, awful"])] == [
        "positive",
        "negative",
    ]


@pytest.mark.training
def test_pruning_the_feed_forward_layers_writes_a_narrower_network_both_loaders_read(
    tmp_path: Path,
) -> None:
    from scoring.distill import distill

    data = _tiny_tweeteval(tmp_path)
    out = tmp_path / "narrow.safetensors"
    metrics = distill(data, out, keep=[0, 5], epochs=2, batch_size=16, ffn=256)
    assert metrics["macro_recall"] > 0.9
    lean_tok, lean = load_lean(out)
    hf_tok, hf = load_default(out)
    lean.eval(), hf.eval()
    for layer in (*lean.encoder.encoder.layer, *hf.encoder.encoder.layer):
        assert layer.intermediate.dense.weight.shape == (256, 384)
        assert layer.output.dense.weight.shape == (384, 256)
    texts = ["I love it, wonderful", "I hate this, awful", "the meeting is at 3 pm"]
    with torch.inference_mode():
        lean_enc, hf_enc = lean_tok(texts), hf_tok(texts, padding=True, return_tensors="pt")
        a = lean(lean_enc["input_ids"], lean_enc["attention_mask"])
        b = hf(hf_enc["input_ids"], hf_enc["attention_mask"])
    assert torch.allclose(a, b, atol=1e-4)
    scorer = TransformerScorer(lean_tok, lean)
    assert [s.label for s in scorer.score(texts)] == ["positive", "negative", "neutral"]


@pytest.mark.parametrize(("precision", "tolerance"), [("fp32", 1e-4), ("int8", 0.15)])
def test_a_text_scores_the_same_whatever_it_is_batched_with(
    precision: str, tolerance: float
) -> None:
    # int8 (opt-in) scales each batch's activations by their own range: a borderline text's
    # probabilities move with its neighbours (0.15 to 0.25 for "meh" here); its label holds
    scorer = default_scorer(precision)
    texts = [
        "meh",
        "I absolutely love the new update, best app ever! " * 6,  # cut at 64 tokens
        "worst support ever @acme https://t.co/x",
    ] + [f"tweet number {i} about the launch, mostly fine" for i in range(200)]
    together = scorer.score(texts)
    alone = [scorer.score([t])[0] for t in texts[:3]]
    for a, b in zip(together[:3], alone, strict=True):
        assert a.label == b.label
        assert a.compound == pytest.approx(b.compound, abs=tolerance)


def test_the_shipped_default_is_the_distilled_pruned_network() -> None:
    meta = weights_metadata(WEIGHTS)
    assert meta["num_layers"] == "3"
    assert meta["intermediate_size"] == "768"
    assert float(meta["val_macro_recall"]) >= 0.735  # the floor, chosen on val only


def test_missing_weights_say_how_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(UnknownModel, match="sentibot train"):
        load_default(tmp_path / "nope.safetensors")


def test_labels_are_the_three_classes() -> None:
    assert LABELS == ("negative", "neutral", "positive")


def test_the_shipped_default_loads_offline_and_reads_obvious_tweets() -> None:
    scorer = get_scorer("transformer")
    assert scorer is get_scorer("transformer")  # loaded once per process
    results = scorer.score(
        [
            "I absolutely love the new update, best app ever!",
            "This is the worst service, I am so angry and disappointed",
            "The store opens at 9am on Monday",
        ]
    )
    assert [r.label for r in results] == ["positive", "negative", "neutral"]
    assert results[0].compound > 0.5
    assert results[1].compound < -0.5


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_every_precision_reads_obvious_tweets_alike(precision: str) -> None:
    texts = [
        "I absolutely love the new update, best app ever!",
        "This is the worst service, I am so angry and disappointed",
        "The store opens at 9am on Monday",
    ]
    scorer = TransformerScorer(*load_default(), precision=precision)
    assert scorer.precision == precision
    results = scorer.score(texts)
    assert [r.label for r in results] == ["positive", "negative", "neutral"]
    for r in results:
        assert r.negative + r.neutral + r.positive == pytest.approx(1.0, abs=1e-3)


def test_auto_precision_picks_bf16_only_where_the_cpu_has_it() -> None:
    from scoring.transformer import bf16_supported, resolve_precision

    assert resolve_precision("auto") == ("bf16" if bf16_supported() else "fp32")
    with pytest.raises(UnknownModel, match="unknown precision"):
        resolve_precision("fp8")
