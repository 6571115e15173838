#!/bin/sh
# Builds the libFuzzer harness for xentropy's kernels and fuzzes them.
#
#   sh tools/fuzz/run.sh [SECONDS]     fuzz for SECONDS (default 60)
#   sh tools/fuzz/run.sh FILE...       replay saved inputs (e.g. a crash-* file)
#
# Needs clang-14 and its fuzzer runtime (Debian: clang-14 libclang-rt-14-dev;
# tools/install-deps.R installs them as root). The build and the corpus live
# in tools/fuzz/build/ and tools/fuzz/corpus/ (both ignored by git); a failing
# input is saved as tools/fuzz/build/crash-<sha1> and the run exits non-zero.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cxx=${CXX_FUZZ:-clang++-14}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "$cxx not found: apt-get install clang-14 libclang-rt-14-dev" >&2
  exit 1
fi
mkdir -p "$here/build" "$here/corpus"
bin="$here/build/fuzz_kernels"
src="$here/fuzz_kernels.cpp"
# Rebuild when the harness or any header is newer than the binary.
if [ ! -x "$bin" ] || [ -n "$(find "$src" "$repo/inst/include" -newer "$bin" -type f | head -n 1)" ]; then
  echo "Building $bin"
  "$cxx" -std=c++17 -g -O2 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$repo/inst/include" "$src" -o "$bin"
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
case "${1:-60}" in
  *[!0-9]*) exec "$bin" "$@" ;;  # replay files (paths as given)
esac
cd "$here/build"
secs=${1:-60}
# -max_len: inputs of a few hundred bytes reach every kernel with rows of
# up to 12 entries; -use_value_profile helps it find the comparisons.
"$bin" -max_total_time="$secs" -max_len=1024 -use_value_profile=1 \
  -print_final_stats=1 -artifact_prefix="$here/build/" "$here/corpus" 2>&1 | tee "$here/build/last-run.log" |
  grep -v -E '^#[0-9]+.*(NEW|REDUCE|pulse)' || true
status=0
grep -q -E 'FUZZ FAILURE|ERROR: (Address|Leak)Sanitizer|runtime error:|deadly signal|==ERROR' "$here/build/last-run.log" && status=1
[ "$status" -eq 0 ] && echo "fuzz: no failure in $secs s" || echo "fuzz: FAILED (see above; input saved in $here/build/)" >&2
exit $status
