cat > /tmp/tones.py <<'EOF'
import glob, os, wave
import numpy as np
K = {{ k }}
lines = []
for path in sorted(glob.glob('/app/audio/*.wav')):
    with wave.open(path) as w:
        ch, sw, fs = w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(w.getnframes())
    x = (np.frombuffer(raw, np.uint8) - 128.0) / 128 if sw == 1 else np.frombuffer(raw, '<i2') / 32768.0
    x = x.reshape(-1, ch).mean(axis=1)
    x = (x - x.mean()) * np.hanning(len(x))
    nfft = 1 << int(np.ceil(np.log2(len(x) * 16)))
    mag = np.log(np.abs(np.fft.rfft(x, nfft)) + 1e-12)
    step = fs / nfft
    idx = np.where((mag[1:-1] >= mag[:-2]) & (mag[1:-1] > mag[2:]))[0] + 1
    idx = idx[(idx * step >= 90) & (idx * step <= 3600)]
    chosen = []
    for i in idx[np.argsort(-mag[idx])]:
        if all(abs(i - j) * step > 30 for j in chosen):
            chosen.append(i)
        if len(chosen) == K:
            break
    freqs = []
    for i in chosen:
        a, b, c = mag[i - 1], mag[i], mag[i + 1]
        freqs.append((i + 0.5 * (a - c) / (a - 2 * b + c)) * step)
    lines.append(os.path.basename(path) + ',' + ','.join(f'{f:.3f}' for f in sorted(freqs)))
open('/app/tones.csv', 'w').write('\n'.join(lines) + '\n')
EOF
python3 /tmp/tones.py
