"""Outcome-only RL (DPPO): group advantages, per-token losses, the training step, rollouts in
sandboxes and the training loop. See README.md for the files."""
