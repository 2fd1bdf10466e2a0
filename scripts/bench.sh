#!/usr/bin/env bash
# `make bench`: frostsign against the stock tools, on the same file, in the same run, as ratios.
# Release build only. Not a test: nothing fails on a slow machine; numbers are printed for people.
#   BENCH_MB (default 1024): artifact size in MiB.  BENCH_RUNS (default 5): runs per measurement (median).
set -euo pipefail
BIN=$(cd "$(dirname "${1:-target/release/frostsign}")" && pwd)/$(basename "${1:-target/release/frostsign}")
MB=${BENCH_MB:-1024}
RUNS=${BENCH_RUNS:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/frostsign-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

median() { # run a command RUNS times, print the median wall time in seconds
  local times=()
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}
ratio() { echo "scale=2; $1 / $2" | bc -l; }
as() { local who=$1; shift; "$BIN" --home "h-$who" --passphrase-file pass "$@"; }

echo "frostsign benchmark: ${MB} MiB artifact, median of $RUNS runs, $(nproc) cores"
head -c $((MB * 1024 * 1024)) /dev/urandom > artifact.bin
cat artifact.bin > /dev/null   # page cache, so every tool reads from memory

echo "setting up a 2-of-2 group and signing the artifact once..."
echo "bench passphrase" > pass
for who in a b; do as $who holder new --name "$who" --insecure-fast-kdf >/dev/null 2>&1; as $who holder export --out $who.card 2>/dev/null; done
"$BIN" dkg init --allow-insecure-cards --dir kg --threshold 2 a.card b.card >/dev/null
for _ in 1 2 3; do for who in a b; do as $who dkg step --dir kg --yes >/dev/null 2>&1; done; done
"$BIN" group export --key kg/group.pub --format minisign --out minisign.pub
t_init=$(median "$BIN" sign init --dir "s-$RANDOM$RANDOM" --group kg/group.pub --file artifact.bin)
"$BIN" sign init --dir s --group kg/group.pub --file artifact.bin >/dev/null
for _ in 1 2 3; do for who in a b; do as $who sign step --dir s --file artifact.bin --yes >/dev/null 2>&1; done; "$BIN" sign collect --dir s >/dev/null || true; done
cp s/artifact.bin.minisig .

printf '\n%-44s %10s %10s %8s\n' "measurement" "frostsign" "stock" "ratio"
row() { printf '%-44s %9ss %9ss %7sx\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }

t_fs=$(median "$BIN" verify --key kg/group.pub artifact.bin)
if command -v minisign >/dev/null; then
  t_ms=$(median minisign -Vm artifact.bin -p minisign.pub)
  row "verify (frostsign verify vs minisign -V)" "$t_fs" "$t_ms"
else
  echo "minisign not installed: verify measured alone: ${t_fs}s (install: sudo apt-get install -y minisign)"
fi
t_b2=$(median b2sum artifact.bin)
row "BLAKE2b-512 pass (verify vs b2sum)" "$t_fs" "$t_b2"
t_both=$(median sh -c 'b2sum artifact.bin && sha256sum artifact.bin')
row "request hashing (sign init vs b2sum+sha256sum)" "$t_init" "$t_both"
echo
echo "ratio < 1 means frostsign is faster. sign init hashes BLAKE2b-512 and SHA-256 in one pass."
