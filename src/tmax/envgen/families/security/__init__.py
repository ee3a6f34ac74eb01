"""security: validate untrusted input, reverse-engineer binaries, and find intrusions in logs."""
