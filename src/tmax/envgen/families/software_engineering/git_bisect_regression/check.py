import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else ".")
try:
    import pricing, rates
except Exception:
    sys.exit(125)
CASES = {{ cases | repr }}
sys.exit(0 if all(pricing.order_total(lines, off, rate) == want for lines, off, rate, want in CASES) else 1)
