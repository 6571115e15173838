#!/bin/sh
# Builds the package tarball and runs R CMD check --as-cran on it, offline.
# Exits non-zero unless the check ends with "Status: OK" (0 errors, 0
# warnings, 0 notes). Results are kept in check/ (ignored by git and R).
#
#   sh tools/check.sh
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)

# R CMD check needs a UTF-8 locale for a package whose sources are UTF-8
# (without one, "checking R files for syntax errors" warns that it cannot set
# the locale). A bare container often has none set: use C.UTF-8 (built into
# glibc >= 2.35 and Debian's libc), or else the first UTF-8 locale installed.
case "$(locale charmap 2>/dev/null)" in
  UTF-8|utf8) ;;
  *)
    utf8=$(locale -a 2>/dev/null | grep -i -x -E 'C\.utf-?8' | head -n 1)
    [ -n "$utf8" ] || utf8=$(locale -a 2>/dev/null | grep -i -E '\.utf-?8$' | head -n 1)
    if [ -n "$utf8" ]; then
      echo "The locale is not UTF-8; running the check with LC_ALL=$utf8"
      LANG=$utf8
      LC_ALL=$utf8
      export LANG LC_ALL
    else
      echo "No UTF-8 locale is installed (locale -a): R CMD check will warn." >&2
    fi
    ;;
esac

out="$repo/check"
# What R CMD build and check cannot do without, said up front rather than
# as a wall of vignette errors (tools/install-deps.R says how to get them).
if ! Rscript -e 'for (p in c("knitr", "rmarkdown", "testthat"))
    if (!requireNamespace(p, quietly = TRUE)) { message("tools/check.sh needs the R package ", p, "."); quit(status = 1) }
  if (!rmarkdown::pandoc_available()) {
    message("tools/check.sh needs pandoc to build the vignettes (Debian: apt-get install pandoc).")
    quit(status = 1)
  }'; then
  echo "Missing dependencies: run Rscript tools/install-deps.R to see what and how to install them." >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out"
cd "$out"

R CMD build "$repo"
tarball=$(ls xentropy_*.tar.gz)

# The PDF manual uses the inconsolata font when TeX has it (it is in the large
# texlive-fonts-extra); otherwise R's documented fallback without it.
if ! kpsewhich inconsolata.sty >/dev/null 2>&1; then
  R_RD4PDF=${R_RD4PDF:-"times,hyper"}
  export R_RD4PDF
fi

# CRAN's incoming checks need the network, and so does the web clock that
# --as-cran consults before comparing file times (R 4.2 turns that check on
# regardless; _R_CHECK_SYSTEM_CLOCK_=false compares with the local clock).
# arrow is only Enhanced (parquet / feather chunks for data_chunks()) and not
# in Debian; without it the check would NOTE that it cannot check it, so that
# NOTE is switched off (R's _R_CHECK_PACKAGE_DEPENDS_IGNORE_MISSING_ENHANCES_).
# The shared library is stripped of debug symbols as CRAN does (Debian's
# default, --strip-unneeded, also removes the symbols R CMD check inspects).
_R_CHECK_CRAN_INCOMING_=false \
_R_CHECK_CRAN_INCOMING_REMOTE_=false \
_R_CHECK_FUTURE_FILE_TIMESTAMPS_=false \
_R_CHECK_SYSTEM_CLOCK_=false \
_R_CHECK_PACKAGE_DEPENDS_IGNORE_MISSING_ENHANCES_=true \
_R_SHLIB_STRIP_=true \
R_STRIP_SHARED_LIB="strip --strip-debug" \
  R CMD check --as-cran "$tarball" || true

log=xentropy.Rcheck/00check.log
tests=xentropy.Rcheck/tests/testthat.Rout
[ -f "$tests" ] || tests=xentropy.Rcheck/tests/testthat.Rout.fail
if [ -f "$tests" ]; then
  # testthat's summary line, e.g. [ FAIL 0 | WARN 0 | SKIP 0 | PASS 301 ]
  summary=$(grep -E '^\[ FAIL [0-9]+ \| WARN [0-9]+ \| SKIP [0-9]+ \| PASS [0-9]+ \]' "$tests" | tail -n 1)
  if [ -n "$summary" ]; then
    echo "$summary" | sed -E 's/^\[ FAIL ([0-9]+) \| WARN [0-9]+ \| SKIP ([0-9]+) \| PASS ([0-9]+) \]/testthat: \3 passed, \1 failed, \2 skipped/' |
      tee "$out/summary.txt"
  fi
fi
echo "Check directory: $out/xentropy.Rcheck"
tail -n 1 "$log"
grep -q '^Status: OK' "$log"
