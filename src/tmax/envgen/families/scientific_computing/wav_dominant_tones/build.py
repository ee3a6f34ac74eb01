"""wav_dominant_tones: find the sine-tone frequencies in WAV recordings."""

from __future__ import annotations

import io
import random
import wave

import numpy as np

from tmax.envgen.bundle import TaskParts
from tmax.envgen.families import family
from tmax.envgen.families.files import FamilyFiles

FILES = FamilyFiles(__file__)


def _wav_bytes(signal: np.ndarray, fs: int, channels: int, sampwidth: int) -> bytes:
    x = np.clip(signal, -1.0, 1.0)
    if channels == 2:
        x = np.column_stack((x, 0.8 * x)).ravel()
    pcm = (np.round(x * 127 + 128).astype(np.uint8) if sampwidth == 1
           else np.round(x * 32767).astype("<i2"))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(sampwidth)
        w.setframerate(fs)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def _tone_freqs(rng: random.Random, k: int, decimals: int) -> list[float]:
    freqs: list[float] = []
    while len(freqs) < k:
        f = round(rng.uniform(120, 3400), decimals)
        if all(abs(f - g) >= 60 for g in freqs):
            freqs.append(f)
    return sorted(freqs)


@family(name="wav_dominant_tones", domain="scientific_computing", skill_type="numerical_methods",
        verifier="metric_threshold", fixture="audio", language="python",
        skills=("read_wav_files", "fft_signal_analysis", "spectral_peak_picking", "pcm_sample_decoding"),
        command_complexity="bash_code")
def build(rng: random.Random, difficulty: int) -> TaskParts:
    """Find the K sine-tone frequencies in each WAV file. Knobs: number of files (2-5), tones per
    file (1-3), noise level, sample rates (one at 1, mixed from 2), stereo files (3+), decimal
    frequencies and shorter clips (3+/4), 8-bit PCM and a DC offset (4), tolerance 5/2/1/0.5 Hz."""
    k = [1, 2, 3, 3][difficulty - 1]
    tol = [5.0, 2.0, 1.0, 0.5][difficulty - 1]
    noise = [0.0, 0.02, 0.03, 0.03][difficulty - 1]
    rates = [[8000], [8000, 16000], [8000, 11025, 16000, 22050], [8000, 11025, 16000, 22050]][difficulty - 1]
    np_rng = np.random.default_rng(rng.getrandbits(64))
    files: dict[str, str | bytes] = {}
    expected = {}
    for i in range(difficulty + 1):
        fs = rng.choice(rates)
        dur = [1.0, 1.0, rng.choice([1.5, 2.0]), rng.choice([0.6, 0.8, 1.25])][difficulty - 1]
        freqs = _tone_freqs(rng, k, 1 if difficulty >= 3 else 0)
        t = np.arange(int(round(fs * dur))) / fs
        sig = sum(rng.uniform(0.12, 0.25 if k == 3 else 0.4) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28))
                  for f in freqs)
        sig = sig + noise * np_rng.standard_normal(len(t)) + (0.1 if difficulty == 4 else 0.0)
        channels = rng.choice([1, 2]) if difficulty >= 3 else 1
        sampwidth = rng.choice([1, 2]) if difficulty == 4 else 2
        name = f"clip_{i + 1:02d}.wav"
        files[f"environment/app/audio/{name}"] = _wav_bytes(sig, fs, channels, sampwidth)
        expected[name] = freqs
    extras = []
    if noise:
        extras.append("white noise")
    if difficulty == 4:
        extras.append("a constant DC offset")
    formats = ("mono or stereo (the same tones in both channels), 8-bit unsigned or 16-bit signed PCM"
               if difficulty == 4 else "mono or stereo (the same tones in both channels), 16-bit signed PCM"
               if difficulty == 3 else "mono, 16-bit signed PCM")
    tones = (f"exactly {k} steady sine tones" if k > 1 else "exactly one steady sine tone") + \
        (" plus " + " and ".join(extras) if extras else "")
    spacing = " and, within one file, are at least 60 Hz apart" if k > 1 else ""
    listing = (f"then its {k} tone frequencies in Hz in ascending order, all comma-separated" if k > 1
               else "a comma, then the tone frequency in Hz")
    instruction = (
        f"The directory /app/audio holds WAV recordings (`*.wav`). Each one contains {tones}. Tone frequencies "
        f"lie between 120 Hz and 3400 Hz{spacing}. The files are {formats}; sample rates and durations may "
        "differ between files.\n\n"
        "Write /app/tones.csv with one line per WAV file, sorted by file name: the file name (e.g. "
        f"`clip_01.wav`), {listing}; no header. Example line: `clip_01.wav,"
        + ",".join(["440.25", "1210.5", "2210.75"][:k]) + "`. "
        f"A file counts as correct when every frequency is within {tol} Hz of the true one."
    )
    return TaskParts(instruction, FILES.fill("test_task.py", data={"expected": expected, "tol": tol}),
                     FILES.fill("solve.sh", k=k), files,
                     knobs={"files": len(expected), "tones": k, "tolerance_hz": tol, "noise": noise,
                            "sample_rates": len(rates), "stereo": difficulty >= 3, "pcm8_dc_offset": difficulty == 4})
