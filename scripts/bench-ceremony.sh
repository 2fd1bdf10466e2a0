#!/usr/bin/env bash
# Ceremony costs per keyholder step, for `make bench` (scripts/bench.sh calls this; it also runs alone).
#   scripts/bench-ceremony.sh BIN T N...   e.g. scripts/bench-ceremony.sh target/release/frostsign 2 3 7 10
# For each (T, N): N keyholders with the test KDF (--insecure-fast-kdf) run a whole key generation (every
# keyholder steps once per round), then T of them sign a 1 KiB file in the minisign format. Each step is
# timed as user+system CPU time of its process (bash's `time`, from getrusage), which other load on the machine
# changes less than wall time. Prints one line per (T, N, phase): mean, median and max CPU milliseconds per step.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
WORK=$(mktemp -d "${TMPDIR:-/tmp}/frostsign-bench-cer.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
echo "bench passphrase" > pass

cpu() { # run a command, append "label ms" to times.txt (user+sys CPU of the process)
  local label=$1; shift
  local TIMEFORMAT='%3U %3S'
  { time "$@" >/dev/null 2>err.out || true; } 2>t.out   # a coordinator that waits exits non-zero
  awk -v l="$label" '{printf "%s %.1f\n", l, ($1+$2)*1000}' t.out >> times.txt
}
summary() { # per label, in the order labels first appeared: steps, mean, median and max
  local label
  for label in $(awk '!seen[$1]++ {print $1}' times.txt); do
    awk -v l="$label" '$1==l {print $2}' times.txt | sort -g | awk -v l="$label" '
      { v[NR]=$1; s+=$1 }
      END { m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2
            printf "  %-22s %5d steps  mean %8.1f ms  median %8.1f ms  max %8.1f ms\n", l, NR, s/NR, m, v[NR] }'
  done
}

while [ $# -ge 2 ]; do
  T=$1 N=$2; shift 2
  rm -rf g && mkdir g && cd g && : > times.txt
  cp ../pass .
  for i in $(seq "$N"); do
    "$BIN" --home "h$i" --passphrase-file pass holder new --name "k$i" --insecure-fast-kdf >/dev/null 2>&1
    "$BIN" --home "h$i" --passphrase-file pass holder export --out "k$i.card" 2>/dev/null
  done
  cards=(); for i in $(seq "$N"); do cards+=("k$i.card"); done
  "$BIN" dkg init --allow-insecure-cards --dir kg --threshold "$T" "${cards[@]}" >/dev/null
  for round in 1 2 3 4 5; do
    for i in $(seq "$N"); do cpu "dkg-pass$round" "$BIN" --home "h$i" --passphrase-file pass dkg step --dir kg --yes; done
  done
  [ -f kg/group.pub ] || { echo "key generation ($T of $N) did not complete" >&2; exit 1; }
  head -c 1024 /dev/urandom > a.bin
  cpu "sign-init" "$BIN" sign init --dir s --group kg/group.pub --file a.bin --format minisign
  for pass in 1 2 3; do
    for i in $(seq "$T"); do cpu "sign-step$pass" "$BIN" --home "h$i" --passphrase-file pass sign step --dir s --file a.bin --yes; done
    cpu "sign-collect$pass" "$BIN" sign collect --dir s
  done
  "$BIN" verify --key kg/group.pub a.bin --sig s/a.bin.minisig >/dev/null
  echo "ceremony $T-of-$N (CPU per step):"
  summary
  # For scripts/bench.sh's table beyond FROST: "T-of-N label median" per line.
  if [ -n "${CEREMONY_MEDIANS:-}" ]; then
    summary | awk -v s="$T-of-$N" '{print s, $1, $8}' >> "$CEREMONY_MEDIANS"
  fi
  cd ..
done
