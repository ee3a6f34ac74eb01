"""Peak memory of the LM-head loss: tmax's chunked logprobs vs full logits.

All variants compute the same thing, forward and backward, in fp32: logp of N target
tokens under softmax(h·Wᵀ) with gradients to h and W, plus the entropy (no gradient).

- ``full``:       logits [N, V] → log_softmax → gather (what ``model(...).logits`` leads to)
- ``checkpoint``: the same per chunk of --chunk tokens, each under ``torch.utils.checkpoint``
                  (the obvious chunked version; kept here to show why tmax does not use it)
- ``tmax``:       ``tmax.training.logprobs.token_logprobs`` (chunked, backward written by hand)

Peak = the most memory held at any moment during forward + backward, minus what was held
before (h, W, targets), so W's fp32 gradient counts in both. How it is measured:

- CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``, in-process.
- CPU: each variant runs in a fresh subprocess; the peak is the kernel's resident-set
  high-water mark (``VmHWM`` in /proc/self/status, reset through /proc/self/clear_refs after
  setup) minus the resident set after setup. The child runs with glibc's
  ``MALLOC_MMAP_THRESHOLD_`` at 1 MiB, so every large tensor is its own mmap, returned to the
  kernel on free, and the RSS follows the live tensors (with glibc's default, adaptive
  threshold, freed ~30 MB blocks stay in the heap and inflate the chunked peaks).
  tracemalloc cannot see torch's allocations. Where clear_refs is unavailable,
  ``getrusage`` ru_maxrss is used instead.

Usage: .venv/bin/python benchmarks/train_memory.py [--tokens 4096] [--hidden 1024]
       [--vocab 151936] [--chunk 1024] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import os

import torch
from torch.utils.checkpoint import checkpoint

from tmax.training.logprobs import token_logprobs

VARIANTS = ("full", "checkpoint", "tmax")


def full_logprobs(hidden, weight, targets):
    """The straightforward version: all [N, V] logits at once."""
    logits = hidden.float() @ weight.float().t()                                  # [N, V]
    logp_all = torch.log_softmax(logits, dim=-1)                                   # [N, V]
    with torch.no_grad():
        entropy = -(logp_all.exp() * logp_all).sum(-1)                             # [N]
    return logp_all.gather(-1, targets[:, None]).squeeze(-1), entropy


def checkpoint_logprobs(hidden, weight, targets, chunk):
    """``full_logprobs`` per chunk of tokens, each chunk recomputed in the backward pass."""
    parts = [checkpoint(full_logprobs, hidden[s:s + chunk], weight, targets[s:s + chunk], use_reentrant=False)
             for s in range(0, hidden.shape[0], chunk)]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def setup(args, device):
    g = torch.Generator(device=device).manual_seed(0)
    hidden = torch.randn(args.tokens, args.hidden, generator=g, device=device).requires_grad_()
    weight = (0.02 * torch.randn(args.vocab, args.hidden, generator=g, device=device)).requires_grad_()
    targets = torch.randint(0, args.vocab, (args.tokens,), generator=g, device=device)
    return hidden, weight, targets


def step(variant, hidden, weight, targets, chunk):
    if variant == "full":
        logp, entropy = full_logprobs(hidden, weight, targets)
    elif variant == "checkpoint":
        logp, entropy = checkpoint_logprobs(hidden, weight, targets, chunk)
    else:
        logp, entropy = token_logprobs(hidden, weight, targets, chunk=chunk)
    logp.mean().backward()
    return float(logp.detach().sum()), float(weight.grad.norm())


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def measure_cpu(variant, args) -> dict:
    """Child process body: peak RSS above the post-setup RSS, in bytes."""
    torch.set_num_threads(args.threads)
    hidden, weight, targets = setup(args, "cpu")
    step(variant, hidden[:8].detach().requires_grad_(), weight, targets[:8], args.chunk)  # load kernels
    weight.grad = None
    base = _status_kib("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        method = "VmHWM"
    except OSError:
        method = "ru_maxrss"
    start = time.perf_counter()
    check = step(variant, hidden, weight, targets, args.chunk)
    seconds = time.perf_counter() - start
    peak = _status_kib("VmHWM") if method == "VmHWM" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_bytes": (peak - base) * 1024, "seconds": seconds, "method": method, "check": check}


def measure_cuda(variant, args) -> dict:
    hidden, weight, targets = setup(args, "cuda")
    step(variant, hidden[:8].detach().requires_grad_(), weight, targets[:8], args.chunk)
    weight.grad = None
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    start = time.perf_counter()
    check = step(variant, hidden, weight, targets, args.chunk)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() - base
    del hidden, weight, targets
    torch.cuda.empty_cache()
    return {"peak_bytes": peak, "seconds": seconds, "method": "cuda.max_memory_allocated", "check": check}


def run_variant(variant, args) -> dict:
    if torch.cuda.is_available() and not args.cpu:
        return measure_cuda(variant, args)
    argv = [sys.executable, __file__, "--child", variant, *sys.argv[1:]]
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(2 ** 20)}
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{variant} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=4096)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--vocab", type=int, default=151936)
    parser.add_argument("--chunk", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per variant")
    parser.add_argument("--cpu", action="store_true", help="measure on CPU even when CUDA is available")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_cpu(args.child, args)))
        return
    results = {v: run_variant(v, args) for v in VARIANTS}
    full = results["full"]
    for name, r in results.items():
        if abs(r["check"][0] - full["check"][0]) > 1e-3 * abs(full["check"][0]):
            raise SystemExit(f"{name} disagrees with full: {r['check']} vs {full['check']}")
    gib = 2 ** 30
    print(f"N={args.tokens} H={args.hidden} V={args.vocab} chunk={args.chunk} fp32, forward+backward; "
          f"peak above setup by {full['method']}")
    print(f"one [N, V] fp32 tensor: {args.tokens * args.vocab * 4 / gib:.2f} GiB; "
          f"W and its gradient: {args.vocab * args.hidden * 4 / gib:.2f} GiB each")
    for name, r in results.items():
        r["ratio_to_full"] = r["peak_bytes"] / full["peak_bytes"]
        print(f"{name:10s} peak {r['peak_bytes'] / gib:6.2f} GiB ({r['ratio_to_full']:6.1%} of full)"
              f"   time {r['seconds']:6.1f} s")
    print(f"tmax / full peak: {results['tmax']['ratio_to_full']:.1%} (target ≤ 25%)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
