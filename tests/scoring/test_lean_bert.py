"""The scoring worker's encoder without `transformers` gives what transformers' BertModel gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from scoring.transformer import (
    FULL_WEIGHTS,
    MAX_LEN,
    PAD_TO,
    THREE_LAYER_WEIGHTS,
    WEIGHTS,
    load_default,
    load_lean,
)

TEXTS = [
    "I love my new acme phone!!! @user http",
    "worst update ever, the app crashes every time 😡",
    "meh",
    "Acme's CEO announced the Q3 results today; shares were flat. " * 3,  # truncated at 64
]


@pytest.mark.parametrize(
    "weights",
    [WEIGHTS, THREE_LAYER_WEIGHTS, FULL_WEIGHTS],
    ids=["pruned", "three-layer", "six-layer"],
)
def test_the_lean_encoder_and_tokenizer_match_transformers(weights: Path) -> None:
    hf_tok, hf_net = load_default(weights)
    lean_tok, lean_net = load_lean(weights)
    kwargs = {
        "padding": True,
        "truncation": True,
        "max_length": MAX_LEN,
        "return_tensors": "pt",
        "pad_to_multiple_of": PAD_TO,
    }
    hf_enc, lean_enc = hf_tok(TEXTS, **kwargs), lean_tok(TEXTS, **kwargs)
    assert torch.equal(hf_enc["input_ids"], lean_enc["input_ids"])
    assert torch.equal(hf_enc["attention_mask"], lean_enc["attention_mask"])
    assert lean_enc["input_ids"].shape[1] == MAX_LEN  # the long one was cut, all padded to 16s
    hf_net.eval()
    lean_net.eval()
    with torch.inference_mode():
        expected = hf_net(hf_enc["input_ids"], hf_enc["attention_mask"])
        got = lean_net(lean_enc["input_ids"], lean_enc["attention_mask"])
    assert torch.allclose(expected, got, atol=1e-4)
    assert torch.equal(expected.argmax(-1), got.argmax(-1))


def test_a_scoring_worker_never_imports_transformers() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from scoring.transformer import default_scorer; "
        "default_scorer('fp32').score(['acme is great']); "
        "print('transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
