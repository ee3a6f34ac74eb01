cat > /tmp/ode.py <<'EOF'
import json
RHS = {
    'decay': lambda y, p: [-p['k'] * y[0]],
    'logistic': lambda y, p: [p['r'] * y[0] * (1 - y[0] / p['K'])],
    'oscillator': lambda y, p: [y[1], -2 * p['zeta'] * p['omega'] * y[1] - p['omega'] ** 2 * y[0]],
    'lotka_volterra': lambda y, p: [p['a'] * y[0] - p['b'] * y[0] * y[1], p['d'] * y[0] * y[1] - p['c'] * y[1]],
    'van_der_pol': lambda y, p: [y[1], p['mu'] * (1 - y[0] ** 2) * y[1] - y[0]],
}
def rk4(f, p, y, t0, t1, h=5e-4):
    n = max(1, round((t1 - t0) / h)); dt = (t1 - t0) / n
    for _ in range(n):
        k1 = f(y, p); k2 = f([a + dt / 2 * b for a, b in zip(y, k1)], p)
        k3 = f([a + dt / 2 * b for a, b in zip(y, k2)], p); k4 = f([a + dt * b for a, b in zip(y, k3)], p)
        y = [a + dt / 6 * (b + 2 * c + 2 * d + e) for a, b, c, d, e in zip(y, k1, k2, k3, k4)]
    return y
out = {}
for prob in json.load(open('/app/problems.json')):
    y, t, states = prob['y0'], 0.0, []
    for te in prob['t_eval']:
        y = rk4(RHS[prob['kind']], prob['params'], y, t, te); t = te; states.append(y)
    out[prob['id']] = states
json.dump(out, open('/app/solutions.json', 'w'), indent=1)
EOF
python3 /tmp/ode.py
