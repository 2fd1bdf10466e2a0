#!/usr/bin/env bash
# Ceremony costs per keyholder step, for `make bench` (scripts/bench.sh calls this; it also runs alone).
#   scripts/bench-ceremony.sh BIN T N...   e.g. scripts/bench-ceremony.sh target/release/frostsign 2 3 7 10
# For each (T, N): N keyholders with the test KDF (--insecure-fast-kdf) run a whole key generation (every
# keyholder steps once per round), then T of them sign a 1 KiB file in the minisign format. Each step is
# timed as user+system CPU time of its process (bash's `time`, from getrusage), which other load on the machine
# changes less than wall time. Prints one line per (T, N, phase): mean and max CPU milliseconds per step.
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
summary() { # mean and max per label, in the order labels first appeared
  awk '{ if (!($1 in n)) order[++k]=$1; n[$1]++; s[$1]+=$2; if ($2>m[$1]) m[$1]=$2 }
       END { for (i=1;i<=k;i++) { l=order[i]; printf "  %-22s %5d steps  mean %8.1f ms  max %8.1f ms\n", l, n[l], s[l]/n[l], m[l] } }' times.txt
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
  # For scripts/bench.sh's table beyond FROST: "T-of-N label mean" per line.
  if [ -n "${CEREMONY_MEANS:-}" ]; then
    awk -v s="$T-of-$N" '{n[$1]++; t[$1]+=$2} END {for (l in n) printf "%s %s %.2f\n", s, l, t[l]/n[l]}' times.txt >> "$CEREMONY_MEANS"
  fi
  cd ..
done
