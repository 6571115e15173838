#!/bin/sh
# Builds xentropy with AddressSanitizer and UndefinedBehaviorSanitizer (gcc),
# installs it into a temporary library and runs the test suite under it, with
# gcc's libasan preloaded into R (R itself is not instrumented). Fails on any
# test failure and on any sanitizer report.
#
#   sh tools/sanitize.sh
#
# Leak detection is off: R frees much of its memory only at exit, by design.
# The compiler flags go through a private Makevars file (R_MAKEVARS_USER), so
# ~/.R/Makevars is neither read nor touched. Needs gcc with libasan (Debian's
# gcc has it) and the packages the tests use (tools/install-deps.R).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/xentropy-sanitize.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

libasan=$(gcc -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
  echo "gcc's libasan was not found (gcc -print-file-name=libasan.so): install gcc's sanitizer runtime (Debian: libasan8)." >&2
  exit 1
fi

# -O2 as in a normal build, so the same SIMD paths are compiled and tested.
san="-fsanitize=address,undefined -fno-omit-frame-pointer"
cat > "$work/Makevars" <<EOF
CFLAGS = -g -O2 $san
CXXFLAGS = -g -O2 $san
CXX11FLAGS = -g -O2 $san
CXX14FLAGS = -g -O2 $san
CXX17FLAGS = -g -O2 $san
LDFLAGS = $san
EOF

# A copy of the sources, so no object file lands in the working tree.
mkdir "$work/xentropy" "$work/lib"
for f in DESCRIPTION NAMESPACE R src inst man tests; do
  [ -e "$repo/$f" ] && cp -R "$repo/$f" "$work/xentropy/"
done
rm -f "$work/xentropy/src/"*.o "$work/xentropy/src/"*.so

echo "Building xentropy with $san"
start=$(date +%s)
# --no-test-load: loading an ASan-linked library into an R without libasan
# preloaded fails; the tests below load it with the runtime in place.
if ! R_MAKEVARS_USER="$work/Makevars" MAKEFLAGS="${MAKEFLAGS:--j1}" \
    R CMD INSTALL --no-test-load --no-docs --no-multiarch -l "$work/lib" "$work/xentropy" \
    > "$work/install.log" 2>&1; then
  cat "$work/install.log"
  echo "sanitizer build failed" >&2
  exit 1
fi
grep -q -- "-fsanitize=address" "$work/install.log" || {
  cat "$work/install.log"; echo "the sanitizer flags did not reach the compiler" >&2; exit 1; }
built=$(date +%s)
echo "Built in $((built - start)) s; running the tests under ASan + UBSan"

cd "$work/xentropy/tests"
status=0
R_LIBS="$work/lib${R_LIBS:+:$R_LIBS}" \
LD_PRELOAD="$libasan" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:print_summary=1" \
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:print_summary=1" \
  Rscript -e 'options(warn = 1)
    res <- as.data.frame(testthat::test_dir("testthat", package = "xentropy",
      load_package = "installed", reporter = "summary", stop_on_failure = FALSE))
    n_fail <- sum(res$failed) + sum(res$error)
    n_skip <- sum(res$skipped)
    n_pass <- sum(res$nb) - sum(res$failed) - n_skip
    cat(sprintf("sanitizers: %d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip),
        file = "counts.txt")
    quit(status = if (n_fail > 0) 1 else 0)' \
  > "$work/tests.log" 2>&1 || status=$?
done_at=$(date +%s)
cat "$work/tests.log"

reports=$(grep -c -E "runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer" "$work/tests.log" || true)
echo "Tests under sanitizers took $((done_at - built)) s (build $((built - start)) s)"
[ -f counts.txt ] && cat counts.txt
if [ "$reports" -gt 0 ]; then
  echo "FAILED: $reports sanitizer report line(s) above" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "FAILED: the test run under the sanitizers exited with status $status" >&2
  exit 1
fi
echo "No sanitizer report."
