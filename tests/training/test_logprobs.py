"""Chunked LM-head logprobs against full-logits autograd, and trainer logprobs of packed rows
against the tiny Qwen3 model's own logits."""

import pytest

torch = pytest.importorskip("torch")

from tmax.training.logprobs import sequence_logprobs, token_logprobs  # noqa: E402
from tmax.rl.losses import aggregate, dppo_tv  # noqa: E402
from tmax.training.packing import Sequence, pack, pack_stats  # noqa: E402

N, H, V = 50, 16, 300


def inputs(seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(N, H, generator=g).to(dtype).requires_grad_()
    weight = (0.3 * torch.randn(V, H, generator=g)).to(dtype).requires_grad_()  # logits ~N(0, 1.5)
    return hidden, weight, torch.randint(0, V, (N,), generator=g)


def reference(hidden, weight, targets, temperature):
    """Full [N, V] logits in fp32, the computation the chunked version must reproduce."""
    logits = hidden.float() @ weight.float().t() / temperature                  # [N, V]
    logp_all = torch.log_softmax(logits, -1)                                     # [N, V]
    entropy = -(logp_all.exp() * logp_all).sum(-1)                               # [N]
    return logp_all.gather(-1, targets[:, None]).squeeze(-1), entropy


@pytest.mark.parametrize("chunk", [1, 7, 16, 50, 1024])
@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_values_and_gradients_match_full_logits(chunk, temperature):
    hidden, weight, targets = inputs()
    g = torch.randn(N, generator=torch.Generator().manual_seed(1))   # a generic upstream gradient
    ref_lp, ref_ent = reference(hidden, weight, targets, temperature)
    ref_grads = torch.autograd.grad((ref_lp * g).sum(), (hidden, weight))
    lp, ent = token_logprobs(hidden, weight, targets, temperature, chunk)
    grads = torch.autograd.grad((lp * g).sum(), (hidden, weight))
    assert lp.dtype == torch.float32 and lp.shape == ent.shape == (N,)
    torch.testing.assert_close(lp, ref_lp, atol=1e-5, rtol=0)
    torch.testing.assert_close(ent, ref_ent.detach(), atol=1e-5, rtol=0)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    assert not ent.requires_grad


def test_bf16_inputs_are_computed_in_fp32():
    hidden, weight, targets = inputs(dtype=torch.bfloat16)
    lp, _ = token_logprobs(hidden, weight, targets, chunk=8)
    ref, _ = reference(hidden, weight, targets, 1.0)
    assert lp.dtype == torch.float32
    torch.testing.assert_close(lp, ref, atol=1e-5, rtol=0)
    lp.sum().backward()
    assert hidden.grad.dtype == weight.grad.dtype == torch.bfloat16


@pytest.mark.parametrize("which", [0, 1])
def test_gradient_to_only_one_input(which):
    hidden, weight, targets = inputs()
    (hidden, weight)[1 - which].requires_grad_(False)
    lp, _ = token_logprobs(hidden, weight, targets, chunk=16)
    (got,) = torch.autograd.grad(lp.sum(), (hidden, weight)[which])
    (want,) = torch.autograd.grad(reference(hidden, weight, targets, 1.0)[0].sum(), (hidden, weight)[which])
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_no_grad_and_empty_inputs():
    hidden, weight, targets = inputs()
    with torch.no_grad():
        lp, _ = token_logprobs(hidden, weight, targets, chunk=9)
    assert not lp.requires_grad
    lp, ent = token_logprobs(hidden[:0], weight, targets[:0])
    assert lp.shape == ent.shape == (0,)
    with pytest.raises(ValueError, match="targets must be"):
        token_logprobs(hidden, weight, targets[:3])


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()


def rollouts(lengths=(40, 23, 31, 17), seed=0):
    g = torch.Generator().manual_seed(seed)
    made = []
    for n, adv in zip(lengths, (1.0, -0.5, 0.25, -1.0)):
        mask = [0] * 5 + [1] * 6 + [0] * 4 + [1] * (n - 15)   # prompt, reply, tool output, reply
        logp_old = (-torch.rand(n, generator=g) * 3).tolist()
        made.append(Sequence(torch.randint(0, 2000, (n,), generator=g).tolist(), mask, logp_old, adv))
    return made


@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_sequence_logprobs_equal_the_models_own_logits(model, temperature):
    for r in rollouts():
        (b,) = pack([r], max_tokens=64)
        with torch.no_grad():
            logits = model(input_ids=b.input_ids, use_cache=False).logits.float() / temperature  # [1, L, V]
            want = torch.log_softmax(logits, -1).gather(-1, b.targets[..., None]).squeeze(-1)     # [1, L]
            full, _ = sequence_logprobs(model, b, temperature, chunk=7, all_tokens=True)
            only_loss, ent = sequence_logprobs(model, b, temperature, chunk=7)
        torch.testing.assert_close(full, want, atol=1e-5, rtol=0)
        torch.testing.assert_close(only_loss, want * b.loss_mask, atol=1e-5, rtol=0)
        assert full.shape == ent.shape == b.input_ids.shape
        assert (ent[b.loss_mask == 0] == 0).all() and (ent[b.loss_mask == 1] > 0).all()


def test_packed_micro_batches_give_the_gradient_of_one_batch(model):
    """DPPO over rows packed at two sizes (4 micro-batches vs 1) gives the same loss and
    gradient: packing changes neither attention nor the token-level aggregate."""
    data = rollouts()
    params = [p for p in model.parameters() if p.requires_grad]

    def loss_and_grads(max_tokens):
        batches = pack(data, max_tokens)
        n_tokens = pack_stats(batches, len(data), max_tokens)["n_response_tokens"]
        model.zero_grad()
        total = 0.0
        for b in batches:
            logp, _ = sequence_logprobs(model, b, chunk=16)
            per_token, _ = dppo_tv(logp, b.logp_old, b.advantages, b.loss_mask)
            loss = aggregate(per_token, b.loss_mask, n_tokens)
            loss.backward()
            total += loss.item()
        return len(batches), total, [p.grad.clone() for p in params]

    n_small, loss_small, grads_small = loss_and_grads(40)
    n_big, loss_big, grads_big = loss_and_grads(256)
    assert (n_small, n_big) == (3, 1)
    assert loss_small == pytest.approx(loss_big, abs=1e-6) and loss_big != 0
    assert sum(g.abs().sum().item() for g in grads_big) > 0
    for a, b in zip(grads_small, grads_big):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
