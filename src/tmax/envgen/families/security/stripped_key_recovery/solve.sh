cd /app
objcopy -O binary --only-section=.rodata /app/checker /tmp/ro.bin
python3 - <<'PY'
import json, re, subprocess
D = {{ difficulty }}
data = open("/tmp/ro.bin", "rb").read()
shape = re.compile(rb"[a-z]{3,8}-[a-z]{3,8}-[0-9]{2}")
letters = range(ord("a"), ord("z") + 1)
def run(*args):
    return subprocess.run(["/app/checker", *args], capture_output=True, text=True)
allowed = set(b"abcdefghijklmnopqrstuvwxyz0123456789-")
def decode(stream, o, key, step):
    out = bytearray()
    for i in range(min(20, len(stream) - o)):
        c = stream[o + i] ^ ((key + step * i) % 256)
        if c not in allowed:
            break
        out.append(c)
    return bytes(out)
def search():
    for stream in (data, data[::-1]):
        for o in range(len(stream) - 10):
            for c0 in letters:
                key = stream[o] ^ c0
                for c1 in (letters if D >= 3 else [None]):
                    step = 0 if c1 is None else ((stream[o + 1] ^ c1) - key) % 256
                    m = shape.match(decode(stream, o, key, step))
                    if m and run(m.group().decode(), "0").returncode != 1:
                        return m.group().decode(), key, step
found = search()
phrase, key, step = found
out = {"passphrase": phrase}
if D >= 2:
    out["xor_key"] = key
if D >= 3:
    out["xor_step"] = step
    out["pin"] = next(p for p in range(10 ** D) if run(phrase, str(p)).returncode == 0)
    flag = run(phrase, str(out["pin"])).stdout
else:
    flag = run(phrase).stdout
out["flag"] = re.search(r"FLAG\{[0-9a-f]{8}\}", flag).group()
json.dump(out, open("/app/findings.json", "w"))
PY
