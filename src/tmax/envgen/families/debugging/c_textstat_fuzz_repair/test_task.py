ORIGINAL = {{ original | repr }}
SEED = {{ seed }}
TRIGGERS = {{ triggers | repr }}
CHECKS = {{ checks | repr }}
import random
from tmax_verify import Grader
g = Grader()
src = g.read("/app/src/textstat.c")
g.gate("textstat.c was changed", src is not None and src != ORIGINAL)
code, _, err = g.run("gcc -O2 -o /tmp/textstat /app/src/textstat.c")
g.gate("textstat.c compiles", code == 0, err[-300:])

def stats(line):
    words = line.replace("\t", " ").split()
    alnum = [c.lower() for c in line if c.isascii() and c.isalnum()]
    h = 0
    for b in line.encode():
        h = (h * 31 + b) % 2 ** 32
    return [len(words), max(map(len, words), default=0), sum(c in "aeiouAEIOU" for c in line),
            sum(int(c) for c in line if c in "0123456789"), int(alnum == alnum[::-1]), h]

def oracle(text):
    return "".join(" ".join(map(str, stats(line))) + "\n" for line in text.splitlines())

def candidate(text):
    return g.run(["/tmp/textstat"], input=text, timeout=10)[1]

rnd = random.Random(SEED)
def random_line():
    chars = "abcdeiouxyzAEIOUQZ0123456789" + " " * 6 + "\t,.!?-"
    line = "".join(rnd.choice(chars) for _ in range(rnd.choice([0, 3, 8, 20, 40, 90, 160, 250])))
    return line if rnd.random() < 0.8 else line[: len(line) // 2] + line[: len(line) // 2][::-1]

inputs = []
for _ in range(60):
    lines = [random_line() for _ in range(rnd.randint(3, 12))] + TRIGGERS
    rnd.shuffle(lines)
    inputs.append("\n".join(lines) + "\n")
g.fuzz_equivalence("fuzz", candidate, oracle, inputs, weight=len(CHECKS))
for i, (text, column) in enumerate(CHECKS):
    got = [row.split() for row in candidate(text).splitlines()]
    want = [row.split() for row in oracle(text).splitlines()]
    same = len(got) == len(want) and all(len(a) == 6 and a[column] == b[column] for a, b in zip(got, want))
    g.check(f"bug {i + 1}", same)
g.finish()
