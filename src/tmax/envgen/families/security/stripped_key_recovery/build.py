"""stripped_key_recovery: recover a passphrase (and PIN) from a stripped C binary, ``app/checker.c``.

``solve.sh`` is a generic attack: decode .rodata under every key/step that yields a
passphrase-shaped string, confirm candidates with the binary, then probe PINs."""

from __future__ import annotations

import random

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)

_SYLLABLES = ["amber", "falcon", "copper", "lantern", "orchid", "glacier", "tundra", "cobalt", "meadow", "saffron",
              "harbor", "thistle", "quartz", "willow", "ember", "raven", "summit", "velvet", "juniper", "nimbus"]


def _u32_hashes(passphrase: str, pin: int | None) -> tuple[int, int]:
    """(flag hash, pin target) exactly as checker.c computes them."""
    h = 2166136261
    for b in passphrase.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    x = target = 0
    if pin is not None:
        h = ((h ^ pin) * 16777619) & 0xFFFFFFFF
        x = (pin * 2654435761) & 0xFFFFFFFF
        x ^= x >> 15
        x = (x * 2246822519) & 0xFFFFFFFF
        target = x ^ (x >> 13)
    return h, target


@family(name="stripped_key_recovery", domain="security", skill_type="reverse_engineering",
        verifier="exact_text", fixture="stripped_binary", language="c",
        skills=("extract_binary_strings", "disassemble_binary", "xor_decoding", "brute_force_probing"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """A stripped C binary guards a flag behind a passphrase (and a PIN); recover them. Knobs:
    1 passphrase in clear among decoy look-alikes, 2 XOR-ed with one key byte, 3 XOR-ed with a
    key stream K+S*i plus a 3-digit PIN to probe for, 4 the encoded bytes stored reversed and a
    4-digit PIN. The report asks for every recovered parameter."""
    words = rng.sample(_SYLLABLES, 2 * (5 + difficulty))
    phrases = [f"{words[2 * i]}-{words[2 * i + 1]}-{rng.randint(10, 99)}" for i in range(5 + difficulty)]
    phrase, decoys = phrases[0], phrases[1:]
    key = 0 if difficulty == 1 else rng.randint(1, 255)
    step = rng.randint(1, 255) if difficulty >= 3 else 0
    pin = rng.randint(0, 10 ** difficulty - 1) if difficulty >= 3 else None
    enc = [b ^ ((key + step * i) & 0xFF) for i, b in enumerate(phrase.encode())]
    if difficulty >= 4:
        enc.reverse()
    flag_hash, target = _u32_hashes(phrase, pin)
    source = FILES.fill(
        "app/checker.c", enc=", ".join(f"0x{b:02x}" for b in enc), decoys=", ".join(f'"{d}"' for d in decoys),
        key=key, step=step, index="n - 1 - i" if difficulty >= 4 else "i",
        argc=3 if pin is not None else 2, pin_usage=" PIN" if pin is not None else "",
        use_pin=int(pin is not None), target=target)
    expected = {"passphrase": phrase, "flag": f"FLAG{{{flag_hash:08x}}}"}
    how = "It checks the passphrase against data compiled into it."
    if difficulty == 2:
        how = ("The passphrase is not stored in clear: every byte of it is XOR-ed with the same key byte K "
               "(1-255). Report K as `xor_key`.")
        expected["xor_key"] = key
    if difficulty >= 3:
        how = ("The passphrase is not stored in clear: byte i of it (0-based) is XOR-ed with (K + S*i) mod 256 for "
               "two constants K and S (0-255). Report them as `xor_key` (K) and `xor_step` (S). After the "
               f"passphrase it also needs a numeric PIN between 0 and {10 ** difficulty - 1} as the second "
               "argument; report it as `pin` (a JSON integer).")
        expected.update(xor_key=key, xor_step=step, pin=pin)
    usage = "/app/checker PASSPHRASE PIN" if pin is not None else "/app/checker PASSPHRASE"
    instruction = (
        f"/app/checker is a stripped binary whose source is gone. Run as `{usage}`, it prints "
        "`ACCESS GRANTED FLAG{xxxxxxxx}` (8 lower-case hex digits) when the input is right and `ACCESS DENIED` "
        "otherwise. The passphrase is two lower-case words and two digits joined by hyphens, like `word-other-12`; "
        f"several look-alike decoys are rejected. {how}\n\n"
        "Write /app/findings.json, a JSON object with `passphrase` and `flag` (the whole `FLAG{...}` text)"
        + (" plus the fields named above." if difficulty >= 2 else ".")
    )
    return TaskParts(instruction, FILES.fill("test_task.py", expected=expected),
                     FILES.fill("solve.sh", difficulty=difficulty),
                     {"environment/app/checker.c": source},
                     dockerfile_extra=("RUN gcc -O1 -o /app/checker /app/checker.c && strip /app/checker "
                                       "&& rm /app/checker.c"),
                     knobs={"decoys": len(decoys), "xor": ["none", "single_byte", "key_stream", "key_stream_reversed"][
                         difficulty - 1], "pin_digits": difficulty if pin is not None else 0})
