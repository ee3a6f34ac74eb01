def max_satisfying(versions, spec):
    best = None
    for v in versions:
        if satisfies(v, spec) and (best is None or compare(v, best) > 0):
            best = v
    return best
