#!/bin/sh
# Builds the libFuzzer harnesses for xentropy's kernels and fuzzes them.
#
#   sh tools/fuzz/run.sh [SECONDS]     fuzz each harness for SECONDS (default 60)
#   sh tools/fuzz/run.sh FILE...       replay saved inputs (e.g. a crash-* file)
#
# Two harnesses: fuzz_kernels.cpp (link functions, normalisers, information
# measures against long-double references) and fuzz_path.cpp (the
# regularisation-path solver: KKT certificates recomputed, dense = sparse).
# FUZZ_TARGETS="kernels" (or "path") runs one of them; a replay runs the
# first one named there.
#
# Needs clang-14 and its fuzzer runtime (Debian: clang-14 libclang-rt-14-dev;
# tools/install-deps.R installs them as root), and RcppEigen's headers for the
# path harness. The builds and corpora live in tools/fuzz/build/ and
# tools/fuzz/corpus*/ (ignored by git); a failing input is saved as
# tools/fuzz/build/crash-<sha1> and the run exits non-zero.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cxx=${CXX_FUZZ:-clang++-14}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "$cxx not found: apt-get install clang-14 libclang-rt-14-dev" >&2
  exit 1
fi
targets=${FUZZ_TARGETS:-kernels path}
mkdir -p "$here/build"

build() {  # build <name>: tools/fuzz/fuzz_<name>.cpp -> build/fuzz_<name>
  src="$here/fuzz_$1.cpp"
  bin="$here/build/fuzz_$1"
  extra=""
  if [ "$1" = path ]; then
    eigen=$(Rscript -e 'cat(system.file("include", package = "RcppEigen"))')
    if [ -z "$eigen" ]; then
      echo "RcppEigen is not installed: the path harness needs its headers" >&2
      exit 1
    fi
    extra="-isystem $eigen"
  fi
  # Rebuild when the harness or any header is newer than the binary.
  if [ ! -x "$bin" ] || [ -n "$(find "$src" "$repo/inst/include" -newer "$bin" -type f | head -n 1)" ]; then
    echo "Building $bin"
    # shellcheck disable=SC2086
    "$cxx" -std=c++17 -g -O2 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      -I"$repo/inst/include" $extra "$src" -o "$bin"
  fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
case "${1:-60}" in
  *[!0-9]*)  # replay files (paths as given) on the first target
    first=${targets%% *}
    build "$first"
    exec "$here/build/fuzz_$first" "$@" ;;
esac
secs=${1:-60}
status=0
for t in $targets; do
  build "$t"
  corpus="$here/corpus"
  [ "$t" = kernels ] || corpus="$here/corpus-$t"
  mkdir -p "$corpus"
  log="$here/build/last-run-$t.log"
  cd "$here/build"
  # -max_len: inputs of a few hundred bytes reach every kernel with rows of
  # up to 12 entries; -use_value_profile helps it find the comparisons.
  "$here/build/fuzz_$t" -max_total_time="$secs" -max_len=1024 -use_value_profile=1 \
    -print_final_stats=1 -artifact_prefix="$here/build/" "$corpus" 2>&1 | tee "$log" |
    grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)' || true
  if grep -q -E 'FUZZ FAILURE|path fuzz:|ERROR: (Address|Leak)Sanitizer|runtime error:|deadly signal|==ERROR' "$log"; then
    echo "fuzz ($t): FAILED (see above; input saved in $here/build/)" >&2
    status=1
  else
    echo "fuzz ($t): no failure in $secs s"
  fi
done
exit $status
