#!/usr/bin/env python3
"""Derives the polynomial coefficients of runtime_min/kc2cpp_math.h (deterministic, no randomness).

Method: weighted least squares on 4000 Chebyshev nodes in 30-digit arithmetic (mpmath), then the
coefficients are rounded to float32 one at a time, lowest degree first, refitting the remaining
ones after each rounding so later coefficients absorb the rounding error of earlier ones.
Run: python3 tests/runtime/fit_coefficients.py   (needs mpmath). The header's constants are these
outputs; the ULP bounds in the header are measured by tests/runtime (exhaustive mode).
"""
import struct
import mpmath as mp

mp.mp.dps = 30


def f32(x):
    return struct.unpack('f', struct.pack('f', float(x)))[0]


def nodes(lo, hi, n=4000):
    return [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (k + mp.mpf(0.5)) / n) for k in range(n)]


def lsq(xs, target, weight, powers):
    a = mp.matrix(len(xs), len(powers))
    b = mp.matrix(len(xs), 1)
    for i, x in enumerate(xs):
        w = weight(x)
        for j, p in enumerate(powers):
            a[i, j] = w * x ** p
        b[i] = w * target(x)
    sol, _ = mp.qr_solve(a, b)
    return [sol[j] for j in range(len(powers))]


def fit(f, lo, hi, degree, weight=lambda x: 1, fixed=None):
    """Coefficients c0..c_degree (float32) of f on [lo, hi]; `fixed` pins leading ones."""
    xs = nodes(mp.mpf(lo), mp.mpf(hi))
    fx = {x: f(x) for x in xs}
    got = list(fixed or [])
    while len(got) <= degree:
        k = len(got)
        rest = lambda x: fx[x] - sum(c * x ** i for i, c in enumerate(got))
        sol = lsq(xs, rest, weight, list(range(k, degree + 1)))
        got.append(mp.mpf(f32(sol[0])))
    worst = max(abs(weight(x) * (fx[x] - sum(c * x ** i for i, c in enumerate(got)))) for x in xs)
    return [float(c) for c in got], float(worst)


def lit(c):
    mantissa, exponent = float(c).hex().split("p")
    return mantissa.rstrip("0").rstrip(".") + "p" + exponent + "f"


def show(name, coeffs, err):
    print(f"{name}: weighted max error {err:.3e} = 2^{float(mp.log(err, 2)):.1f}")
    print("  " + ", ".join(lit(c) for c in coeffs))


def expm1_tail(deg=5):
    # e^r - 1 = r + r^2 P(r), |r| <= ln2/2; weight |r| (the error relative to e^r - 1).
    f = lambda r: (mp.expm1(r) - r) / r ** 2 if r != 0 else mp.mpf(0.5)
    h = mp.log(2) / 2
    return fit(f, -h, h, deg, weight=lambda r: abs(r))


def exp_table_tail(deg=1):
    # exp's table form: e^r - 1 = r + r^2 P(r), |r| <= ln2/64 (+ slack for the rounding of n);
    # weight |r| (the error relative to e^r - 1).
    f = lambda r: (mp.expm1(r) - r) / r ** 2 if r != 0 else mp.mpf(0.5)
    h = mp.log(2) / 64 * mp.mpf(1.01)
    return fit(f, -h, h, deg, weight=lambda r: abs(r))


def exp2_table(n=32):
    # 2^(j/n) = hi + lo = hi (1 + rel): hi rounded to float, lo the float nearest the rest, rel the
    # float nearest the rest relative to hi (the --fp fused exp's form).
    hi = [f32(mp.power(2, mp.mpf(j) / n)) for j in range(n)]
    lo = [f32(mp.power(2, mp.mpf(j) / n) - hi[j]) for j in range(n)]
    rel = [f32((mp.power(2, mp.mpf(j) / n) - hi[j]) / hi[j]) for j in range(n)]
    return hi, lo, rel


def log_g(deg=2):
    # log(1+f) = 2s + s R, s = f/(2+f), R = z g(z), z = s^2 <= ((sqrt2-1)/(sqrt2+1))^2; weight z.
    smax = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
    g = lambda z: (2 * mp.atanh(mp.sqrt(z)) - 2 * mp.sqrt(z)) / mp.sqrt(z) ** 3 if z != 0 else mp.mpf(2) / 3
    return fit(g, 0, smax ** 2, deg, weight=lambda z: z)


def tanh_near(deg=4, top=0.625):
    # tanh(a) = a + (a z) P(z), z = a^2, for a < 0.625; weight z (relative error of tanh).
    f = lambda z: (mp.tanh(mp.sqrt(z)) / mp.sqrt(z) - 1) / z if z != 0 else mp.mpf(-1) / 3
    return fit(f, 0, mp.mpf(top) ** 2, deg, weight=lambda z: z)


def erf_near(deg=6):
    # erf(a) = a + a P(a^2) for a < 1.
    f = lambda z: mp.erf(mp.sqrt(z)) / mp.sqrt(z) - 1 if z != 0 else 2 / mp.sqrt(mp.pi) - 1
    return fit(f, 0, 1, deg)


def erf_far(deg=8):
    # erfc(a) = exp(-a^2) Q(a - 1) for 1 <= a <= 4; weight exp(-a^2) (absolute error of erfc).
    q = lambda t: mp.erfc(t + 1) * mp.exp((t + 1) ** 2)
    return fit(q, 0, 3, deg, weight=lambda t: mp.exp(-(t + 1) ** 2))


if __name__ == "__main__":
    show("expm1_tail P(r), degree 5", *expm1_tail())
    show("exp table tail P(r), degree 1", *exp_table_tail())
    for name, table in zip(("kExp2Hi", "kExp2Lo", "kExp2Rel"), exp2_table()):
        print(f"{name} (2^(j/32) = hi + lo = hi (1 + rel)):")
        print("  " + ", ".join(lit(c) for c in table))
    show("log_kernel g(z), degree 2", *log_g())
    show("tanh near P(z), degree 4", *tanh_near())
    show("erf near P(z), degree 6", *erf_near())
    show("erf far Q(t), degree 8", *erf_far())
