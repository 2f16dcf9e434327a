#!/usr/bin/env bash
# Acceptance check on keras.applications (issue 12): real ImageNet architectures, seeded weights.
#
#   scripts/check_applications.sh [--k2] [--regen] [app ...]
#
# apps: mobilenetv2 mobilenetv3small efficientnetb0 resnet50 densenet121 nasnetmobile (default:
# all). For each: tests/fixtures/applications.py builds and saves it with Keras (pinned venv; only
# when <app>.h5 is missing or --regen), then
#   kc2cpp <app>.h5 -o <app>.cpp --header <app>.h --name <app>   (timed)
#   kc2cpp inspect   (arena against one buffer per tensor)
#   kc2cpp eval      on the 8 inputs; the evaluator against Keras within the README bound
#                    |ours - keras| <= 100 * 2^-23 * max|keras| per sample (worst epsilons printed),
#                    and both kc2cpp and Keras against Keras's float64 evaluation (applications.py
#                    --f64); beyond 100, the deep-network bound: kc2cpp's error against float64 at
#                    most 1.5x Keras's own in RMS and 2x in the worst sample
# and builds the generated file for each configuration in $BUILDS (default: all of
#   gcc_avx512   g++ -O2 -march=native          (AVX-512 on this machine)
#   clang_avx2   clang++ -O2 -march=x86-64-v3
#   gcc_sse2     g++ -O2                        (x86-64 baseline: SSE2)
#   gcc_scalar   g++ -O2 -DKC2CPP_FORCE_SCALAR)
# recording the generated file's compile wall time and peak memory (/usr/bin/time), links it with
# tests/e2e/harness_main.cpp (outputs of predict_batch on all inputs: must be bit-identical to
# kc2cpp eval) and bench/apps_bench_main.cpp (ns per inference: median of 7 runs of predict on one
# sample). One table per app; exit status 1 on any mismatch or failure.
#
# Environment: KC2CPP_BUILD_DIR (default build; kc2cpp must be built there), APPS_DIR (work dir,
# default $KC2CPP_BUILD_DIR/applications/<k3|k2>), BUILDS (space-separated subset of the above),
# KC2CPP_VENV_K3 / KC2CPP_VENV_K2 (default .venv-k3 / .venv-k2 in the repository root).
# Everything runs under `nice -n 10`, one compile at a time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$(cd "$root" && realpath -m "${KC2CPP_BUILD_DIR:-build}")"
kc2cpp="$build_dir/kc2cpp"
ver=k3
regen=0
apps=()
for arg in "$@"; do
  case "$arg" in
    --k2) ver=k2 ;;
    --k3) ver=k3 ;;
    --regen) regen=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "check_applications: unknown option $arg" >&2; exit 2 ;;
    *) apps+=("$arg") ;;
  esac
done
[[ ${#apps[@]} -gt 0 ]] || apps=(mobilenetv2 mobilenetv3small efficientnetb0 resnet50 densenet121 nasnetmobile)
builds=(${BUILDS:-gcc_avx512 clang_avx2 gcc_sse2 gcc_scalar})
if [[ $ver == k3 ]]; then venv="${KC2CPP_VENV_K3:-$root/.venv-k3}"; else venv="${KC2CPP_VENV_K2:-$root/.venv-k2}"; fi
py="$venv/bin/python"
work="${APPS_DIR:-$build_dir/applications/$ver}"
[[ -x "$kc2cpp" ]] || { echo "check_applications: $kc2cpp is missing: cmake --build build --target kc2cpp" >&2; exit 2; }
[[ -x "$py" ]] || { echo "check_applications: no virtualenv at $venv (scripts/make_fixtures.sh makes it)" >&2; exit 2; }
mkdir -p "$work"
cd "$work"

flags_of() {
  case "$1" in
    gcc_avx512) echo "g++ -O2 -march=native" ;;
    clang_avx2) echo "clang++ -O2 -march=x86-64-v3" ;;
    gcc_sse2) echo "g++ -O2" ;;
    gcc_scalar) echo "g++ -O2 -DKC2CPP_FORCE_SCALAR" ;;
    *) echo "check_applications: unknown build $1" >&2; exit 2 ;;
  esac
}

# numpy helpers, run in the venv: npy -> raw float32; compare raw with npy bit for bit; the bound.
pyhelp() { nice -n 10 "$py" -c "$1" "${@:2}"; }
to_raw='import sys, numpy as np; np.ascontiguousarray(np.load(sys.argv[1]), dtype=np.float32).tofile(sys.argv[2])'
bit_cmp='import sys, numpy as np
a = np.load(sys.argv[1]); b = np.fromfile(sys.argv[2], dtype=np.float32)
ok = a.size == b.size and np.array_equal(a.ravel().view(np.uint32), b.view(np.uint32))
n = 0 if ok else (int(np.sum(a.ravel().view(np.uint32) != b.view(np.uint32))) if a.size == b.size else -1)
print("yes" if ok else f"NO ({n} of {a.size} differ)")'
# bound OURS REF: worst over samples of max|ours - ref| / (2^-23 * max|ref|), whether <= 100, max|ref|.
bound='import sys, numpy as np
ours = np.load(sys.argv[1]).astype(np.float64); ref = np.load(sys.argv[2]).astype(np.float64)
assert ours.shape == ref.shape, (ours.shape, ref.shape)
eps = 2.0 ** -23
worst = 0.0
for o, k in zip(ours.reshape(len(ours), -1), ref.reshape(len(ref), -1)):
    scale = np.abs(k).max()
    worst = max(worst, np.abs(o - k).max() / (eps * scale) if scale > 0 else np.inf)
print(f"{worst:.1f} {int(np.all(np.isfinite(ours)) and worst <= 100)} {np.abs(ref).max():.3g}")'

# deep OURS KERAS KERAS64: the deep-network criterion of tests/e2e/reference_test.cpp (the README
# bound): against Keras's float64 outputs, kc2cpp's error (epsilons of max|keras64| per sample) is at
# most 1.5x Keras's float32 error in RMS over all elements and 2x in the worst sample. Prints
# "<ours rms> <keras rms> <ours worst> <keras worst> <1 if met>".
deep='import sys, numpy as np
ours, keras, exact = (np.load(p).astype(np.float64) for p in sys.argv[1:4])
def dev(a):
    a, b = a.reshape(len(a), -1), exact.reshape(len(exact), -1)
    e = np.abs(a - b) / (2.0 ** -23 * np.abs(b).max(axis=1, keepdims=True))
    return np.sqrt(np.mean(e ** 2)), e.max()
(orms, omax), (krms, kmax) = dev(ours), dev(keras)
print(f"{orms:.1f} {krms:.1f} {omax:.1f} {kmax:.1f} {int(orms <= 1.5 * krms and omax <= 2 * kmax)}")'

# time_to FILE CMD...: runs CMD under /usr/bin/time; FILE gets "<seconds> <peak KB>".
time_to() { local f="$1"; shift; nice -n 10 /usr/bin/time -o "$f" -f '%e %M' "$@"; }

failed=()
gen=()
for app in "${apps[@]}"; do [[ $regen == 0 && -f "$app.h5" ]] || gen+=("$app"); done
if ((${#gen[@]})); then
  echo "check_applications: generating ${gen[*]} with $venv" >&2
  KERAS_BACKEND=jax PYTHONHASHSEED=0 nice -n 10 "$py" "$root/tests/fixtures/applications.py" --out "$work" "${gen[@]}" \
    || echo "check_applications: applications.py failed for some apps (see above)" >&2
fi
f64=()
for app in "${apps[@]}"; do [[ -f "$app.h5" && ( $regen == 1 || ! -f "$app.keras64.y0.npy" ) ]] && f64+=("$app"); done
if ((${#f64[@]})); then
  KERAS_BACKEND=jax PYTHONHASHSEED=0 nice -n 10 "$py" "$root/tests/fixtures/applications.py" --f64 --out "$work" "${f64[@]}" \
    || echo "check_applications: no float64 outputs for some apps (see above)" >&2
fi

for app in "${apps[@]}"; do
  echo
  echo "== $app ($ver) =="
  if [[ ! -f "$app.h5" ]]; then echo "  not generated"; failed+=("$app:generate"); continue; fi
  params=$(pyhelp 'import json, sys; print(json.load(open(sys.argv[1]))["params"]["total"])' "$app.json")
  if ! time_to "$app.kc2cpp.time" "$kc2cpp" "$app.h5" -o "$app.cpp" --header "$app.h" --name "$app" 2> "$app.kc2cpp.err"; then
    echo "  kc2cpp failed ($(wc -l < "$app.kc2cpp.err") lines; the first 4):"; head -4 "$app.kc2cpp.err" | sed 's/^/    /'
    failed+=("$app:kc2cpp"); continue
  fi
  read -r kc_s kc_kb < "$app.kc2cpp.time"
  cpp_mb=$(awk -v b="$(stat -c %s "$app.cpp")" 'BEGIN { printf "%.1f", b / 1e6 }')
  arena=$("$kc2cpp" inspect "$app.h5" | sed -n 's/^Generated code: workspace (arena) \([0-9,]*\) bytes (one buffer per tensor: \([0-9,]*\)).*/\1 \2/p')
  read -r arena_b unshared_b <<< "$arena"
  if ! time_to "$app.eval.time" "$kc2cpp" eval "$app.h5" --input "$app.x0.npy" --output "$app.eval.y0.npy" 2> "$app.eval.err"; then
    echo "  kc2cpp eval failed:"; sed 's/^/    /' "$app.eval.err"; failed+=("$app:eval"); continue
  fi
  read -r eval_s _ < "$app.eval.time"
  read -r worst_eps within max_keras <<< "$(pyhelp "$bound" "$app.eval.y0.npy" "$app.keras.y0.npy")"
  verdict=$([[ $within == 1 ]] && echo ok || echo EXCEEDED)
  f64_note="no float64 outputs"
  if [[ -f "$app.keras64.y0.npy" ]]; then
    read -r orms krms omax kmax deep_ok <<< "$(pyhelp "$deep" "$app.eval.y0.npy" "$app.keras.y0.npy" "$app.keras64.y0.npy")"
    f64_note="against Keras in float64 (RMS / worst): kc2cpp $orms / $omax, Keras $krms / $kmax epsilons"
    if [[ $within == 0 ]]; then
      within=$deep_ok
      verdict="deep network: $([[ $deep_ok == 1 ]] && echo "within 1.5x / 2x of Keras's own error: ok" || echo "beyond 1.5x / 2x of Keras's own error: EXCEEDED")"
    fi
  fi
  [[ $within == 1 ]] || failed+=("$app:keras-bound")
  pyhelp "$to_raw" "$app.x0.npy" "$app.x0.f32"
  printf '#include "%s.h"\n#define KC2CPP_HARNESS_MODELS(X) X(%s)\n' "$app" "$app" > harness_models.h

  printf '  params %s; arena %s bytes (one buffer per tensor: %s); kc2cpp %s s, %s MB peak; %s.cpp %s MB\n' \
    "$params" "$arena_b" "$unshared_b" "$kc_s" "$((kc_kb / 1024))" "$app" "$cpp_mb"
  printf '  kc2cpp eval: %s s; vs Keras: worst %s epsilons of max|keras| = %s (bound 100): %s; %s\n' \
    "$eval_s" "$worst_eps" "$max_keras" "$verdict" "$f64_note"
  printf '  | build | command | isa | compile s | peak MB | ns/inference | vs scalar | bit-exact vs eval |\n'
  printf '  |---|---|---|---|---|---|---|---|\n'
  declare -A ns_of=()
  rows=()
  for b in "${builds[@]}"; do
    read -r cxx flags <<< "$(flags_of "$b")"
    obj="$app.$b.o"
    if ! time_to "$app.$b.time" $cxx $flags -std=c++17 -c "$app.cpp" -o "$obj" 2> "$app.$b.err"; then
      rows+=("| $b | \`$cxx $flags\` | - | failed | | | | |"); failed+=("$app:$b:compile"); sed 's/^/    /' "$app.$b.err" | head -20; continue
    fi
    read -r c_s c_kb < "$app.$b.time"
    nice -n 10 $cxx $flags -std=c++17 -I. "$root/tests/e2e/harness_main.cpp" "$obj" -o "$app.$b.harness"
    nice -n 10 $cxx $flags -std=c++17 -I. "$root/bench/apps_bench_main.cpp" "$obj" -o "$app.$b.bench"
    rm -f "$obj"
    "./$app.$b.harness" "$app" "$app.x0.f32" "$app.$b.y0.f32" "$app.$b.isa"
    exact=$(pyhelp "$bit_cmp" "$app.eval.y0.npy" "$app.$b.y0.f32")
    [[ $exact == yes ]] || failed+=("$app:$b:bits")
    read -r isa ns _ <<< "$("./$app.$b.bench" "$app" "$app.x0.f32")"
    ns_of[$b]=$ns
    rows+=("| $b | \`$cxx $flags\` | $isa | $c_s | $((c_kb / 1024)) | $ns | @$b@ | $exact |")
  done
  for r in "${rows[@]}"; do
    for b in "${builds[@]}"; do
      ratio=-
      [[ -n "${ns_of[$b]:-}" && -n "${ns_of[gcc_scalar]:-}" ]] && ratio=$(awk -v s="${ns_of[gcc_scalar]}" -v n="${ns_of[$b]}" 'BEGIN { printf "%.2fx", s / n }')
      r=${r//@$b@/$ratio}
    done
    echo "  $r"
  done
  unset ns_of
done

echo
if ((${#failed[@]})); then
  echo "check_applications: FAILED: ${failed[*]}"
  exit 1
fi
echo "check_applications: all ${#apps[@]} app(s) compiled, within the Keras bound and bit-identical to kc2cpp eval"
