// kc2cpp runtime: deterministic math and Keras activations, templates over V = float or V = vf.
//
// Pasted inside `namespace <model> { namespace kc {` after kc2cpp_simd.h; includes nothing.
// Rules:
// - Built only from kc2cpp_simd.h operations: add/sub/mul/div (one rounding each, never fused;
//   except that the functions on the exponential core take a template flag Fused, the model's
//   `--fp fused`, under which the core's product-sums are single-rounding fma: see mla),
//   compares, selects, min_/max_, sign and bit operations, and 32-entry tables (exp's 2^(j/32):
//   hi + lo, or hi (1 + rel) in --fp fused; read by lookup32, which uses only the index's low 5
//   bits). No libm, no estimates, no
//   float->int conversion (integers are read from float bits after an exact magic-number add).
//   So every ISA path runs the same IEEE operation sequence and returns the same bits.
// - Branch-free in the data: all regions are computed and one is selected per lane.
// - Every input bit pattern is defined: NaN in gives NaN out, +-Inf give the mathematical limits,
//   the sign of zero is kept where the function is odd or passes tiny inputs through.
// - Error bounds are max |result - exact| in ULP of the exactly rounded result, measured over all
//   2^32 inputs against a double-precision reference (tests/runtime, exhaustive mode).

namespace detail {

template <class V> inline V inf() { return from_bits(splat_bits<V>(0x7f800000u)); }
template <class V> inline V qnan() { return from_bits(splat_bits<V>(0x7fc00000u)); }

// a * b + c: the product rounded, then the sum (Fused = false, every target), or one rounding
// (Fused = true: a hardware fma; the `--fp fused` math of exp_in_range / exp_reduce / expm1 and of
// every function built on them). The only place the math uses fma.
template <bool Fused, class V> inline V mla(V a, V b, V c) {
  if constexpr (Fused) {
    return fma(a, b, c);
  } else {
    return add(mul(a, b), c);
  }
}

// c - a * b, rounded like mla (b is the constant: its negation folds at compile time).
template <bool Fused, class V> inline V nmla(V a, V b, V c) {
  if constexpr (Fused) {
    return fma(a, neg(b), c);
  } else {
    return sub(c, mul(a, b));
  }
}

// Horner: c0 + x * (c1 + x * (c2 + ...)), evaluated innermost first.
template <class V> inline V poly(V, float c) { return splat_v<V>(c); }
template <class V, class... C> inline V poly(V x, float c0, C... cs) {
  return add(splat_v<V>(c0), mul(x, poly(x, cs...)));
}
// The same with mla<Fused> steps (a function on the exponential core follows the model's --fp).
template <bool Fused, class V> inline V poly_mla(V, float c) { return splat_v<V>(c); }
template <bool Fused, class V, class... C> inline V poly_mla(V x, float c0, C... cs) {
  return mla<Fused>(x, poly_mla<Fused>(x, cs...), splat_v<V>(c0));
}

// x clamped to [lo, hi]; NaN passes through.
template <class V> inline V clamp(V x, float lo, float hi) {
  return max_(splat_v<V>(lo), min_(splat_v<V>(hi), x));
}

// 2^n for an integer-valued n in [-126, 127], given as Step n: n + 127 lands in the low mantissa
// bits of 0x1.8p23 + 127 + n, and shifting left by 23 moves exactly those 9 bits into the exponent
// field. With Step = 32 the magic number is scaled too (ulp 32), so its add also divides by 32.
template <int Step = 1, class V> inline V pow2i(V n) {
  return from_bits(shl<23>(bits(add(n, splat_v<V>((0x1.8p23f + 127.0f) * Step)))));
}

// p * 2^n, rounded once, for an integer-valued n in [-151, 128] and 0.5 <= |p| < 2, as
// (p * first) * second: first = 2^clamp(n, -125, 127) makes an exact (normal, finite) product, and
// second = 2^(n - that), in [2^-26, 2], rounds only a subnormal or overflowing result.
// scale2_by is the same with n given as Step n and the first product as times(first)
// (exp_parts' ExpParts::times).
template <int Step = 1, class V, class Times> inline V scale2_by(Times times, V n) {
  const V n1 = clamp(n, -125.0f * Step, 127.0f * Step);
  return mul(times(pow2i<Step>(n1)), pow2i<Step>(sub(n, n1)));
}
template <class V> inline V scale2(V p, V n) {
  return scale2_by([p](V first) { return mul(p, first); }, n);
}

// Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2 (+ rounding), for x in [-104, 89].
// ln2_hi has 15 significant bits, so n * ln2_hi is exact for |n| <= 2^9 and x - n ln2_hi is exact
// (Sterbenz).
template <class V> struct ExpReduced { V n, r; };
template <bool Fused, class V> inline ExpReduced<V> exp_reduce(V x) {
  const V magic = splat_v<V>(0x1.8p23f);
  const V n = sub(mla<Fused>(x, splat_v<V>(0x1.715476p+0f), magic), magic);
  const V r = nmla<Fused>(n, splat_v<V>(0x1.7f7d1cp-20f), nmla<Fused>(n, splat_v<V>(0x1.62e4p-1f), x));
  return {n, r};
}

// e^r - 1 = r + t, t = r^2 P(r), for |r| <= 0.347; P fitted (tests/runtime/fit_coefficients.py),
// approximation error < 2^-31 relative to e^r - 1. P = c0 + r Q, Q = c1 + ... + c5 r^4 by Estrin's
// scheme, (c1 + c2 r) + r^2 ((c3 + c4 r) + r^2 c5): 7 dependent operations instead of Horner's 10
// (exp sits on the critical path of sigmoid, tanh, elu, ...), with the last step, the one that
// matters most for accuracy, still a single rounding c0 + r Q as in Horner.
template <bool Fused, class V> inline V expm1_tail(V r) {
  const V r2 = mul(r, r);
  const V a = mla<Fused>(r, splat_v<V>(0x1.5554fp-5f), splat_v<V>(0x1.555556p-3f));
  const V b = mla<Fused>(r, splat_v<V>(0x1.6d436ap-10f), splat_v<V>(0x1.110fep-7f));
  const V q = mla<Fused>(r2, mla<Fused>(r2, splat_v<V>(0x1.a293d2p-13f), b), a);
  return mul(r2, mla<Fused>(r, q, splat_v<V>(0x1p-1f)));
}

// log(u) + c/u for a positive, normal, finite u, plus kadj added to the exponent; corr = c/u.
// u = 2^k m, m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f):
// log(m) = f - (hf - s (hf + R(s^2))), hf = f^2 / 2, R(z) = z g(z) ~ 2 atanh(s)/s - 2.
// The result is k ln2_hi + (f - (hf - (s (hf + R) + (k ln2_lo + corr)))), small terms first.
template <class V> inline V log_kernel(V u, V kadj, V corr) {
  const bits_t<V> b = bits(u);
  const V one = splat_v<V>(1.0f);
  V k = sub(from_bits(bor(shr<23>(b), splat_bits<V>(0x4b000000u))), splat_v<V>(0x1p23f + 127.0f));
  V m = from_bits(bor(band(b, splat_bits<V>(0x007fffffu)), splat_bits<V>(0x3f800000u)));
  const mask_t<V> high = gt(m, splat_v<V>(0x1.6a09e6p+0f));
  m = select(high, mul(m, splat_v<V>(0.5f)), m);
  k = add(add(k, select(high, one, splat_v<V>(0.0f))), kadj);
  const V f = sub(m, one);
  const V s = div(f, add(splat_v<V>(2.0f), f));
  const V z = mul(s, s);
  const V r = mul(z, poly(z, 0x1.55557ap-1f, 0x1.995edap-2f, 0x1.31dfeap-2f));
  const V hf = mul(mul(splat_v<V>(0.5f), f), f);
  const V lo = add(mul(k, splat_v<V>(0x1.7f7d1cp-20f)), corr);
  const V t = sub(hf, add(mul(s, add(hf, r)), lo));
  return add(mul(k, splat_v<V>(0x1.62e4p-1f)), sub(f, t));
}

// log-family results outside (0, +Inf): log(+-0) = -Inf, log(<0) = NaN, log(+Inf) = +Inf, NaN.
template <class V> inline V log_special(V u, V normal) {
  const V zero = splat_v<V>(0.0f);
  const mask_t<V> inside = mand(gt(u, zero), lt(u, inf<V>()));
  const V special = select(eq(u, zero), neg(inf<V>()), select(lt(u, zero), qnan<V>(), u));
  return select(inside, normal, special);
}

// x * g(x) for gates with g(-Inf) = 0: IEEE gives -Inf * 0 = NaN there; the limit is -0.
template <class V> inline V gated(V x, V g) {
  return select(lt(x, splat_v<V>(-0x1.fffffep127f)), splat_v<V>(-0.0f), mul(x, g));
}

// Keras relu6: min(max(x, 0), 6); NaN passes through.
template <class V> inline V relu6(V x) {
  return min_(splat_v<V>(6.0f), max_(splat_v<V>(0.0f), x));
}

// 2^(j/32) = kExp2Hi[j] + kExp2Lo[j] to about 2^-48 (tests/runtime/fit_coefficients.py); inline,
// so the evaluator's translation units share one table.
alignas(64) inline constexpr float kExp2Hi[32] = {
    0x1p+0f, 0x1.059b0ep+0f, 0x1.0b5586p+0f, 0x1.11301ep+0f, 0x1.172b84p+0f,
    0x1.1d4874p+0f, 0x1.2387a6p+0f, 0x1.29e9ep+0f, 0x1.306fep+0f, 0x1.371a74p+0f,
    0x1.3dea64p+0f, 0x1.44e086p+0f, 0x1.4bfdaep+0f, 0x1.5342b6p+0f, 0x1.5ab07ep+0f,
    0x1.6247ecp+0f, 0x1.6a09e6p+0f, 0x1.71f75ep+0f, 0x1.7a1148p+0f, 0x1.82589ap+0f,
    0x1.8ace54p+0f, 0x1.93737cp+0f, 0x1.9c4918p+0f, 0x1.a5503cp+0f, 0x1.ae89fap+0f,
    0x1.b7f77p+0f, 0x1.c199bep+0f, 0x1.cb720ep+0f, 0x1.d5818ep+0f, 0x1.dfc974p+0f,
    0x1.ea4afap+0f, 0x1.f50766p+0f,
};
alignas(64) inline constexpr float kExp2Lo[32] = {
    0x0p+0f, -0x1.9d4f52p-25f, 0x1.9f3122p-25f, -0x1.fdb496p-25f, -0x1.c15742p-27f,
    -0x1.d2e8cap-25f, 0x1.ceac48p-25f, -0x1.5c0424p-25f, 0x1.4636e2p-25f, -0x1.18aac6p-25f,
    0x1.824684p-25f, 0x1.8624b4p-30f, -0x1.593abcp-25f, -0x1.2c561p-25f, -0x1.5bd5ecp-27f,
    -0x1.f8b55p-25f, 0x1.9fcef4p-26f, 0x1.1d8beep-25f, -0x1.829fdp-25f, -0x1.accc7cp-26f,
    0x1.15506ep-27f, -0x1.e64744p-25f, 0x1.51f848p-27f, -0x1.b83b54p-25f, -0x1.a94b14p-26f,
    -0x1.a09438p-25f, -0x1.3d56b2p-27f, -0x1.8837ccp-27f, -0x1.822dbcp-27f, -0x1.908c94p-25f,
    0x1.52486cp-27f, -0x1.246ebp-26f,
};
// kExp2Lo relative to kExp2Hi: 2^(j/32) = kExp2Hi[j] (1 + kExp2Rel[j]) to about 2^-49 (the same
// script). The --fp fused exp's form of the table (exp_parts).
alignas(64) inline constexpr float kExp2Rel[32] = {
    0x0p+0f, -0x1.947414p-25f, 0x1.8d96d4p-25f, -0x1.dda2fcp-25f, -0x1.9c0c22p-27f,
    -0x1.a2fbb2p-25f, 0x1.964904p-25f, -0x1.2b0dbcp-25f, 0x1.125002p-25f, -0x1.cde8cep-26f,
    0x1.370be4p-25f, 0x1.336de2p-30f, -0x1.0a355p-25f, -0x1.c541b4p-26f, -0x1.00d8acp-27f,
    -0x1.6cb284p-25f, 0x1.26055cp-26f, 0x1.8b2bb8p-26f, -0x1.05cb44p-25f, -0x1.1c2142p-26f,
    0x1.67a1cap-28f, -0x1.348e56p-25f, 0x1.a3b5e4p-28f, -0x1.0b7ec8p-25f, -0x1.f9c304p-27f,
    -0x1.e4c886p-26f, -0x1.6961b4p-28f, -0x1.b5151ep-28f, -0x1.a5217cp-28f, -0x1.ab7132p-26f,
    0x1.61428ep-28f, -0x1.2ad5f8p-27f,
};

// e^x for x in [-104, 89] (and NaN -> NaN); meaningless outside, where the callers select the
// limits last, so no clamp sits before the polynomial. x = (32 m + j) ln2/32 + r:
//   k = rint(x 32/ln2) by the magic-number add s, whose low 5 bits are j = k mod 32 (the table
//   index: lookup32 reads only those bits of s, so no input can index outside the table);
//   32 m = k - j, exact, is s with those 5 bits cleared, minus the magic number;
//   r = (x - k L_hi) - k L_lo, ln2/32 = L_hi + L_lo, L_hi of 11 significant bits so that k L_hi
//   is exact for |k| < 2^13 and x - k L_hi is exact (Sterbenz); |r| <= ln2/64 (+ rounding);
//   q = e^r - 1 = r + r^2 (c0 + c1 r), error < 2^-32;
//   e^x = 2^m (T_hi + T_hi q + T_lo), summed as T_hi + ((T_hi r + T_lo) + (T_hi r^2) c): the last
//   add is the only large rounding, and no product waits for the sum r + r^2 c (5 dependent
//   operations after r instead of 7; --fp fused has its own form, below).
// exp_parts returns m32 = 32 m and e in [0.98, 2) with e^x = 2^m e, and times(s) = e s rounded
// once, for a power of two s that keeps e s normal (so that e s is the correctly rounded result):
//   unfused: e as above, and times(s) = e s (exact);
//   --fp fused: e = hi (1 + w) with w = r^2 c + (r + T_lo/T_hi) (kExp2Rel), and times(s) =
//   fma(hi s, w, hi s): hi s is exact and off the latency path, so e is never rounded on its own
//   and the scaling costs no latency (3 dependent operations after r, the scaling included,
//   instead of 5, and one multiply fewer). w's two roundings are below 2^-31 (|w| and
//   |r + T_lo/T_hi| < 2^-6); the dropped term q T_lo/T_hi is below 2^-31.
// exp_in_range scales by scale2_by<32>, its first product through times: the correctly rounded
// 2^m e for every m in [-151, 128], two multiplies and no select (the second multiply, by 1
// unless the result is subnormal or overflows, costs latency but fewer instructions than a select
// between one and two multiplies).
// value() is e rounded once (fused: fma(hi, w, hi); unfused: e itself).
template <bool Fused, class V> struct ExpParts {
  V e_or_hi, w, m32;  // unfused: e, (unused), 32 m; fused: hi, w, 32 m
  V times(V s) const {
    if constexpr (Fused) {
      const V h = mul(e_or_hi, s);
      return mla<true>(h, w, h);
    } else {
      return mul(e_or_hi, s);
    }
  }
  V value() const {
    if constexpr (Fused) {
      return mla<true>(e_or_hi, w, e_or_hi);
    } else {
      return e_or_hi;
    }
  }
};
// exp_parts of x = Scale a (Scale a power of two, so that a (Scale c) rounds as (Scale a) c): the
// first product takes a, so the scaling is off the latency path.
template <bool Fused, int Scale = 1, class V> inline ExpParts<Fused, V> exp_parts(V a) {
  const V magic = splat_v<V>(0x1.8p23f);
  const V s = mla<Fused>(a, splat_v<V>(0x1.715476p+5f * Scale), magic);
  const V x = Scale == 1 ? a : mul(a, splat_v<V>(static_cast<float>(Scale)));
  const V k = sub(s, magic);
  const bits_t<V> j = bits(s);  // lookup32 reads its low 5 bits
  const V m32 = sub(from_bits(band(bits(s), splat_bits<V>(~31u))), magic);
  const V r = nmla<Fused>(k, splat_v<V>(0x1.217f7ep-17f), nmla<Fused>(k, splat_v<V>(0x1.62cp-6f), x));
  const V c = mla<Fused>(r, splat_v<V>(0x1.5555c4p-3f), splat_v<V>(0x1.00007ep-1f));
  const V hi = lookup32(kExp2Hi, j);
  if constexpr (Fused) {
    return {hi, mla<true>(mul(r, r), c, add(r, lookup32(kExp2Rel, j))), m32};
  } else {
    return {add(hi, mla<false>(mul(hi, mul(r, r)), c, mla<false>(hi, r, lookup32(kExp2Lo, j)))), V{}, m32};
  }
}
template <bool Fused, class V> inline V exp_in_range(V x) {
  const ExpParts<Fused, V> p = exp_parts<Fused>(x);
  return scale2_by<32>([&p](V first) { return p.times(first); }, p.m32);
}
}  // namespace detail

// e^x. Max error 0.767 ULP (all 2^32 inputs; the worst are subnormal results, which are rounded
// twice: 2^(j/32) e^r to float, then its scaling). exp(x <= -103.98) = +0, exp(x >= 88.73) = +Inf,
// exp(+-0) = 1, exp(-Inf) = +0, exp(+Inf) = +Inf, NaN -> NaN.
template <bool Fused = false, class V> inline V exp(V x) {
  return select(lt(x, splat_v<V>(-104.0f)), splat_v<V>(0.0f),
                select(gt(x, splat_v<V>(89.0f)), detail::inf<V>(), detail::exp_in_range<Fused>(x)));
}

// e^x - 1. Max error 0.991 ULP (all 2^32 inputs). |x| < 2^-25 (+-0, subnormals) -> x;
// x <= -17.4 -> -1; overflow -> +Inf; -Inf -> -1, +Inf -> +Inf, NaN -> NaN.
// With x = n ln2 + r, q = e^r - 1 = r + t, s = 2^n:
//   n <= 24:  (s - 1) + s q        (s - 1 exact; n clamped at -25, where the sum rounds to -1);
//             for n = 1, r < -0.25 ((s - 1) + s r) + s t instead, whose first sum is exact
//             (Sterbenz) so the cancellation there costs no accuracy;
//   n > 24:   s (1 + (q - 2^-min(n, 50))), scaled as in exp (so overflow is exact).
// As in exp, x is reduced unclamped and x < -104 (-> -1), x > 89 (-> +Inf) are selected last.
template <bool Fused = false, class V> inline V expm1(V x) {
  const detail::ExpReduced<V> e = detail::exp_reduce<Fused>(x);
  const V one = splat_v<V>(1.0f);
  const V t = detail::expm1_tail<Fused>(e.r);
  const V q = add(e.r, t);
  const V s = detail::pow2i(detail::clamp(e.n, -25.0f, 24.0f));
  const V s_minus_1 = sub(s, one);
  const mask_t<V> exact_head = mand(eq(e.n, one), lt(e.r, splat_v<V>(-0.25f)));
  const V small = select(exact_head, detail::mla<Fused>(s, t, detail::mla<Fused>(s, e.r, s_minus_1)),
                         detail::mla<Fused>(s, q, s_minus_1));
  const V tiny = detail::pow2i(neg(detail::clamp(e.n, 25.0f, 50.0f)));
  const V big = detail::scale2(add(one, sub(q, tiny)), e.n);
  const V y = select(gt(e.n, splat_v<V>(24.0f)), big, small);
  const V limit = select(lt(x, splat_v<V>(0.0f)), neg(one), detail::inf<V>());
  const mask_t<V> outside = mor(lt(x, splat_v<V>(-104.0f)), gt(x, splat_v<V>(89.0f)));
  return select(lt(abs(x), splat_v<V>(0x1p-25f)), x, select(outside, limit, y));
}

// Natural log. Max error 0.840 ULP (all 2^32 inputs). log(+-0) = -Inf, log(x < 0) = NaN,
// log(+Inf) = +Inf, NaN -> NaN; subnormal inputs are scaled by 2^23 first.
template <class V> inline V log(V x) {
  const mask_t<V> sub_normal = lt(x, splat_v<V>(0x1p-126f));
  const V u = select(sub_normal, mul(x, splat_v<V>(0x1p23f)), x);
  const V kadj = select(sub_normal, splat_v<V>(-23.0f), splat_v<V>(0.0f));
  return detail::log_special(x, detail::log_kernel(u, kadj, splat_v<V>(0.0f)));
}

// log(1 + x). Max error 0.865 ULP (all 2^32 inputs). |x| < 2^-24 (+-0, subnormals) -> x;
// log1p(-1) = -Inf, log1p(x < -1) = NaN, +Inf -> +Inf, NaN -> NaN.
// u = 1 + x rounded; c = the exact rounding error of that sum (Fast2Sum, larger operand first);
// log1p(x) = log(u) + c/u.
template <class V> inline V log1p(V x) {
  const V one = splat_v<V>(1.0f);
  const V u = add(one, x);
  const V c = select(lt(x, one), sub(x, sub(u, one)), sub(one, sub(u, x)));
  const V y = detail::log_special(u, detail::log_kernel(u, splat_v<V>(0.0f), div(c, u)));
  return select(lt(abs(x), splat_v<V>(0x1p-24f)), x, y);
}

// tanh(x), from two regions selected per lane:
//   |x| < 0.625: a + (a z) P(z), a = |x|, z = a^2, P fitted (tests/runtime/fit_coefficients.py;
//                relative error of the approximation 2^-27.7), Horner in mla steps;
//   a <= 9.1:    (1 - e) / (1 + e), e = e^(-2a) = 2^m E by exp_parts (e >= 2^-27: normal, no
//                subnormal handling); unfused as (v - E) / (v + E), v = 2^-m: numerator and
//                denominator scaled by v round exactly as unscaled (powers of two, all normal), so
//                the bits are the plain formula's, without the scaling multiply before the adds
//                (--fp fused scales E in the fma that rounds it: ExpParts::times);
//                tanh rounds to 1 from 9.02, and so does the quotient;
//   else:        1, selected after the division (no clamp delays the exponential; NaN fails the
//                compare and stays NaN through the quotient);
// then the sign of x.
// Max error 1.499 ULP (all 2^32 inputs; the expm1 form it replaced: 2.424, in about twice the
// operations). Odd: -0 -> -0 (the near form keeps it); +-Inf -> +-1; NaN -> NaN.
template <bool Fused = false, class V> inline V tanh(V x) {
  const V one = splat_v<V>(1.0f);
  const V a = abs(x);
  const detail::ExpParts<Fused, V> p = detail::exp_parts<Fused, -2>(a);
  V e, v;  // the quotient's terms, scaled by v (unfused; fused: by 1, e = E 2^m in one fma, as fast)
  if constexpr (Fused) {
    e = p.times(detail::pow2i<32>(p.m32)), v = one;
  } else {
    e = p.value(), v = detail::pow2i<32>(neg(p.m32));
  }
  const V far = select(gt(a, splat_v<V>(9.1f)), one, div(sub(v, e), add(v, e)));
  const V z = mul(a, a);
  const V q = detail::poly_mla<Fused>(z, -0x1.555532p-2f, 0x1.110708p-3f, -0x1.b8395ep-5f, 0x1.521744p-6f,
                                      -0x1.75a99p-8f);
  const V near = detail::mla<Fused>(mul(a, z), q, a);
  return copysign_(select(lt(a, splat_v<V>(0.625f)), near, far), x);
}

// 1 / (1 + e^-x), computed as e / (1 + e) for x < 0 and 1 / (1 + e) for x >= 0, e = exp(-|x|),
// so small results keep full relative accuracy down to the subnormal range. Max error 2.402 ULP
// (all 2^32 inputs). sigmoid(-Inf) = 0, sigmoid(+Inf) = 1, NaN -> NaN.
// -|x| is one OR of the sign bit, clamped at -104 (e^-104 < 2^-150: the quotients round to 0 and
// 1 there, and no select after the division is needed). With e^-|x| = 2^m E (exp_parts, m <= 0,
// E = ExpParts::value()), exp would give e = e1 2^-t, e1 = E 2^n1 rounded once, n1 = max(m, -125),
// t = n1 - m in [0, 26]; 1 + e rounds as 1 + e1 does (both to 1 where t > 0). Numerator and
// denominator are both scaled instead, which rounds exactly alike (powers of two; nothing leaves
// the normal range), so the bits are those plain formulas', for all 2^32 inputs in both --fp modes:
//   unfused: by v = 2^-n1 in [1, 2^125]: E 2^-t / (v + E) for x < 0, v / (v + E) for x >= 0 (E 2^-t
//            exact): the denominator is one add after E, no multiply and add between exp's
//            polynomial and the division;
//   fused:   by u = 2^t: e1 / (u + e1 u) or u / (u + e1 u), e1 from the fma that rounds E
//            (ExpParts::times) and the denominator one fma after it (v + E measured 2-3 cycles
//            slower there).
template <bool Fused = false, class V> inline V sigmoid(V x) {
  const V a = max_(splat_v<V>(-104.0f), from_bits(bor(bits(x), splat_bits<V>(0x80000000u))));
  const detail::ExpParts<Fused, V> p = detail::exp_parts<Fused>(a);
  const V n1 = max_(splat_v<V>(-125.0f * 32.0f), p.m32);
  const mask_t<V> negative = lt(x, splat_v<V>(0.0f));
  if constexpr (Fused) {
    const V e1 = p.times(detail::pow2i<32>(n1));
    const V u = detail::pow2i<32>(sub(n1, p.m32));
    return div(select(negative, e1, u), detail::mla<true>(e1, u, u));
  } else {
    const V e = p.value();
    const V v = detail::pow2i<32>(neg(n1));
    return div(select(negative, p.times(detail::pow2i<32>(sub(p.m32, n1))), v), add(v, e));
  }
}

// Error function. |x| < 1: x + x P(x^2). 1 <= |x|: 1 - exp(-x^2) Q(|x| - 1), |x| clamped at 4
// (erf rounds to 1 from 3.92). Max error 1.289 ULP (all 2^32 inputs). Odd: -0 -> -0; +-Inf -> +-1;
// NaN -> NaN.
template <bool Fused = false, class V> inline V erf(V x) {
  const V one = splat_v<V>(1.0f);
  const V a = min_(splat_v<V>(4.0f), abs(x));
  const V z = mul(a, a);
  const V p = detail::poly(z, 0x1.06eba8p-3f, -0x1.8127400p-2f, 0x1.ce2d5p-4f, -0x1.b7fe8ep-6f,
                           0x1.542deep-8f, -0x1.a5099ep-11f, 0x1.4c2f4cp-14f);
  const V near = add(a, mul(a, p));
  const V q = detail::poly(sub(a, one), 0x1.b5d878p-2f, -0x1.17c4aep-2f, 0x1.3c1c68p-3f,
                           -0x1.43cb4p-4f, 0x1.2df4cp-5f, -0x1.ee1414p-7f, 0x1.3fd3p-8f,
                           -0x1.116282p-10f, 0x1.b5ebacp-14f);
  const V far = sub(one, mul(exp<Fused>(neg(z)), q));
  return copysign_(select(lt(a, one), near, far), x);
}

// ---------------------------------------------------------------------------------------------
// Keras activations. Each follows Keras's formula and operation order (keras/src/activations and
// the TensorFlow kernels behind them); where IEEE gives NaN for an infinite input and the limit
// exists, the limit is returned instead (noted per function).

// Keras relu(x, negative_slope, max_value, threshold); max_value = +Inf means None. Op order:
//   slope != 0, no max, threshold == 0:  x < 0 ? slope * x : x          (leaky_relu)
//   else: neg = relu(threshold - x) (slope != 0 only);
//         x = threshold != 0 ? (x > threshold ? x : x * 0) : max_value == 6 ? relu6(x) : relu(x);
//         x = clip(x, 0, max_value) when max_value is set (and not consumed by relu6);
//         x = x - slope * neg (slope != 0 only).
// x * 0 keeps the sign of x; at x = -Inf Keras gives NaN, this gives -0.
template <class V> inline V relu_plain(V x) { return max_(splat_v<V>(0.0f), x); }

template <class V> inline V relu(V x, float negative_slope, float max_value, float threshold) {
  const V zero = splat_v<V>(0.0f);
  const V slope = splat_v<V>(negative_slope);
  const bool has_max = max_value <= 0x1.fffffep127f;
  if (negative_slope != 0.0f && !has_max && threshold == 0.0f) {
    return select(lt(x, zero), mul(slope, x), x);
  }
  V negative_part = zero;
  if (negative_slope != 0.0f) {
    negative_part = relu_plain(threshold != 0.0f ? sub(splat_v<V>(threshold), x) : neg(x));
  }
  bool clip = has_max;
  V y;
  if (threshold != 0.0f) {
    const V signed_zero = from_bits(band(bits(x), splat_bits<V>(0x80000000u)));
    y = select(le(x, splat_v<V>(threshold)), signed_zero, x);
  } else if (max_value == 6.0f) {
    y = detail::relu6(x);
    clip = false;
  } else {
    y = relu_plain(x);
  }
  if (clip) y = detail::clamp(y, 0.0f, max_value);
  if (negative_slope != 0.0f) y = sub(y, mul(slope, negative_part));
  return y;
}

namespace detail {
// expm1(x) for x <= 0, bit for bit (NaN -> NaN); positive x give unspecified values. There n <= 0,
// so only expm1's `(s - 1) + s q` region, the tiny-x pass-through and x < -104 -> -1 remain: about
// 20 instructions instead of 50.
template <bool Fused, class V> inline V expm1_nonpositive(V x) {
  const ExpReduced<V> e = exp_reduce<Fused>(x);
  const V s = pow2i(max_(splat_v<V>(-25.0f), e.n));
  const V y = mla<Fused>(s, add(e.r, expm1_tail<Fused>(e.r)), sub(s, splat_v<V>(1.0f)));
  return select(lt(x, splat_v<V>(-104.0f)), splat_v<V>(-1.0f), select(gt(x, splat_v<V>(-0x1p-25f)), x, y));
}
}  // namespace detail

// x > 0 ? x : alpha * expm1(x). -Inf -> -alpha, -0 -> -0 * alpha.
template <bool Fused = false, class V> inline V elu(V x, float alpha) {
  return select(gt(x, splat_v<V>(0.0f)), x, mul(splat_v<V>(alpha), detail::expm1_nonpositive<Fused>(x)));
}

// scale * (x > 0 ? x : alpha * expm1(x)) with Keras's constants.
template <bool Fused = false, class V> inline V selu(V x) {
  return mul(splat_v<V>(1.05070098735548049342f), elu<Fused>(x, 1.67326324235437728482f));
}

// tf.keras 2: clip(x * 0.2 + 0.5, 0, 1).
template <class V> inline V hard_sigmoid_k2(V x) {
  return detail::clamp(add(mul(x, splat_v<V>(0.2f)), splat_v<V>(0.5f)), 0.0f, 1.0f);
}

// Keras 3: relu6(x + 3) / 6.
template <class V> inline V hard_sigmoid_k3(V x) {
  return div(detail::relu6(add(x, splat_v<V>(3.0f))), splat_v<V>(6.0f));
}

// x * hard_sigmoid_k3(x); -Inf -> -0.
template <class V> inline V hard_silu(V x) { return detail::gated(x, hard_sigmoid_k3(x)); }

// log(1 + e^x): x > 15 -> x (e^-x is below half an ULP of x), x < -17 -> e^x (the e^2x/2 term is
// below half an ULP), else log1p(exp(x)). -Inf -> +0, +Inf -> +Inf.
template <bool Fused = false, class V> inline V softplus(V x) {
  const V e = exp<Fused>(x);
  const V mid = log1p(e);
  return select(gt(x, splat_v<V>(15.0f)), x, select(lt(x, splat_v<V>(-17.0f)), e, mid));
}

// x / (1 + |x|); +-Inf -> +-1.
template <class V> inline V softsign(V x) {
  const V one = splat_v<V>(1.0f);
  const V a = abs(x);
  const V y = div(x, add(one, a));
  return select(eq(a, detail::inf<V>()), copysign_(one, x), y);
}

template <bool Fused = false, class V> inline V exponential(V x) { return exp<Fused>(x); }

// x * sigmoid(x); -Inf -> -0.
template <bool Fused = false, class V> inline V silu(V x) { return detail::gated(x, sigmoid<Fused>(x)); }

// Exact gelu: (0.5 x) (1 + erf(x / sqrt 2)), x / sqrt 2 computed as x * float(1/sqrt 2) like TF.
// -Inf -> -0.
template <bool Fused = false, class V> inline V gelu(V x) {
  const V cdf2 = add(splat_v<V>(1.0f), erf<Fused>(mul(x, splat_v<V>(0x1.6a09e6p-1f))));
  return detail::gated(mul(splat_v<V>(0.5f), x), cdf2);
}

// Tanh gelu: (0.5 x) (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), x^3 = (x x) x. -Inf -> -0.
template <bool Fused = false, class V> inline V gelu_tanh(V x) {
  const V x3 = mul(mul(x, x), x);
  const V inner = add(x, mul(splat_v<V>(0.044715f), x3));
  const V cdf2 = add(splat_v<V>(1.0f), tanh<Fused>(mul(splat_v<V>(0.79788456080286535588f), inner)));
  return detail::gated(mul(splat_v<V>(0.5f), x), cdf2);
}

// x * tanh(softplus(x)); -Inf -> -0.
template <bool Fused = false, class V> inline V mish(V x) {
  return detail::gated(x, tanh<Fused>(softplus<Fused>(x)));
}
