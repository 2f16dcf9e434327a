#!/usr/bin/env bash
# Regenerate the committed Keras fixtures (tests/fixtures/k3/ and tests/fixtures/k2/) with real Keras.
#
#   scripts/make_fixtures.sh                               # both versions, all fixtures
#   scripts/make_fixtures.sh --k3 --only summary_walkthrough   # one version, one fixture (globs ok)
#   scripts/make_fixtures.sh --k2 --list
#
# Creates the pinned virtualenvs .venv-k3/ (Keras 3 + JAX) and .venv-k2/ (TensorFlow 2.15,
# tf.keras 2.15) in the repository root from tests/fixtures/requirements-k{3,2}.txt when they are
# missing or their requirements changed, then runs tests/fixtures/gen_fixtures.py in each.
# Every argument other than --k3/--k2 goes to the generator.
#
# Environment: PYTHON (default python3; must be Python 3.11, which the pins were made with),
# KC2CPP_VENV_K3 / KC2CPP_VENV_K2 to use existing virtualenvs elsewhere instead.
#
# Idempotent and deterministic: reruns write the same .npy/.json/.summary.txt files; the HDF5 and
# .keras files may differ in timestamps only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="$root/tests/fixtures"
python="${PYTHON:-python3}"

versions=()
gen_args=()
for arg in "$@"; do
  case "$arg" in
    --k3|--k2) versions+=("${arg#--}") ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) gen_args+=("$arg") ;;
  esac
done
[[ ${#versions[@]} -gt 0 ]] || versions=(k3 k2)

# ensure_venv DIR REQUIREMENTS: (re)create DIR unless it was built from exactly REQUIREMENTS.
ensure_venv() {
  local dir="$1" req="$2"
  local stamp="$dir/kc2cpp-requirements.txt"
  if [[ -x "$dir/bin/python" && -f "$stamp" ]] && cmp -s "$req" "$stamp"; then
    return 0
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "make_fixtures: $python is not Python 3.11 (the pins in ${req#"$root"/} need it); set PYTHON=" >&2
    exit 2
  fi
  echo "make_fixtures: creating ${dir#"$root"/} from ${req#"$root"/}" >&2
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --no-input --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
}

for v in "${versions[@]}"; do
  case "$v" in
    k3) dir="${KC2CPP_VENV_K3:-$root/.venv-k3}" ;;
    k2) dir="${KC2CPP_VENV_K2:-$root/.venv-k2}" ;;
  esac
  req="$fixtures/requirements-$v.txt"
  # Only venvs this script owns are created or replaced; given ones are used as they are.
  if [[ "$v" == k3 && -z "${KC2CPP_VENV_K3:-}" ]] || [[ "$v" == k2 && -z "${KC2CPP_VENV_K2:-}" ]]; then
    ensure_venv "$dir" "$req"
  fi
  echo "make_fixtures: $v with $dir" >&2
  KERAS_BACKEND=jax PYTHONHASHSEED=0 "$dir/bin/python" "$fixtures/gen_fixtures.py" ${gen_args[@]+"${gen_args[@]}"}
  # The application fixtures also carry Keras's float64 outputs (<name>.keras64.y0.npy: the deep
  # networks' accuracy bound in tests/e2e/reference_test.cpp), written by applications.py --f64
  # in its own process (JAX's x64 mode is chosen at import) when missing or older than the inputs.
  apps=()
  for x in "$fixtures/$v"/app_*.x0.npy; do
    [[ -f "$x" ]] || continue
    base="${x%.x0.npy}"
    [[ "$base.keras64.y0.npy" -nt "$x" ]] || apps+=("${base##*/}")
  done
  if ((${#apps[@]})); then
    KERAS_BACKEND=jax PYTHONHASHSEED=0 "$dir/bin/python" "$fixtures/applications.py" --f64 --out "$fixtures/$v" "${apps[@]}"
  fi
done
