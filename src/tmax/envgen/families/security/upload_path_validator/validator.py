import re
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}

def accepts(raw):
    try:
        text = raw.decode("utf-8")
        if D >= 3:
            if re.search(r"%(?![0-9A-Fa-f]{2})", text):
                return False
            text = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw).decode("utf-8")
            if "%" in text:
                return False
    except UnicodeDecodeError:
        return False
    parts = text.split("/")
    if not 1 <= len(text.encode()) <= MAXLEN or any(p in ("", ".", "..") for p in parts):
        return False
    if D >= 2 and (len(parts) > MAXDEPTH or not re.fullmatch(r"[A-Za-z0-9._/-]+", text)):
        return False
    if D >= 4:
        if any(p[0] in ".-" or p.endswith(".") or p.split(".")[0].upper() in RESERVED for p in parts):
            return False
        if "." not in parts[-1] or parts[-1].rsplit(".", 1)[1].lower() not in EXTS:
            return False
    return True
