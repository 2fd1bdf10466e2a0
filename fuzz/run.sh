#!/bin/sh
# make fuzz: run every fuzz target (or those named in FUZZ_TARGETS) for a bounded time.
#
#   FUZZ_SECONDS  total time, split evenly over the targets run (default 60; each target gets at least 1 s)
#   FUZZ_TARGETS  space-separated target names (default: every target in fuzz/Cargo.toml)
#
# Each target starts from its committed seed corpus (fuzz/corpus/TARGET, read only) and writes what it
# learns to fuzz/target/corpus-work/TARGET (not committed). A crash leaves its input in
# fuzz/artifacts/TARGET/ and fails the run once every target has run. Installs nothing.
set -eu
cd "$(dirname "$0")"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "error: make fuzz needs the nightly toolchain (cargo-fuzz uses -Z sanitizer flags)." >&2
  echo "  install it with: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "error: make fuzz needs cargo-fuzz, which is not installed." >&2
  echo "  install it with: cargo install --locked cargo-fuzz" >&2
  exit 1
fi

targets=${FUZZ_TARGETS:-$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^frostsign-fuzz$')}
total=${FUZZ_SECONDS:-60}
count=$(echo "$targets" | wc -w)
each=$((total / count))
[ "$each" -ge 1 ] || each=1
echo "fuzzing $count targets, $each s each (FUZZ_SECONDS=$total in total)"

cargo +nightly fuzz build -O
failed=""
for t in $targets; do
  mkdir -p "target/corpus-work/$t"
  echo "== $t ($each s)"
  if ! cargo +nightly fuzz run -O "$t" "target/corpus-work/$t" "corpus/$t" -- \
      -max_total_time="$each" -print_final_stats=1 2>"target/fuzz-$t.log"; then
    failed="$failed $t"
    tail -n 40 "target/fuzz-$t.log" >&2
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "target/fuzz-$t.log" || true
done
if [ -n "$failed" ]; then
  echo "error: fuzz targets failed:$failed" >&2
  echo "  the inputs are in fuzz/artifacts/TARGET/; replay one with" >&2
  echo "  (cd fuzz && cargo +nightly fuzz run -O TARGET artifacts/TARGET/crash-...)" >&2
  echo "  then fix the bug and add the input as a regression test in tests/suite/fuzzing.rs" >&2
  exit 1
fi
echo "no crash in $count targets"
