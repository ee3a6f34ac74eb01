"""What RL and SFT both train with: sequence packing, chunked fp32 logprobs, checkpoints,
FSDP2 sharding, the trainer's model set-up. See README.md for the files."""
