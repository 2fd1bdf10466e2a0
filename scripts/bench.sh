#!/usr/bin/env bash
# `make bench`: frostsign against the stock tools, on the same file, in the same run, as ratios; then the
# ceremony costs per keyholder step. Release build only. Not a test: nothing fails on a slow machine; the
# numbers are printed for people (docs/performance.md records one run and says how to read it).
#   BENCH_MB    (default 1024) artifact size in MiB
#   BENCH_RUNS  (default 5)    paired runs per comparison (the median is shown)
#   BENCH_LARGE (default 0)    1: also the 67-of-100 ceremony (about 10 minutes on 2 cores)
# Each comparison runs frostsign and the stock tool alternately, RUNS times, under `/usr/bin/time -v`-style
# accounting (/usr/bin/time -f): CPU is user+system seconds of the process, which other load on the machine
# changes less than wall time; ratios are frostsign / stock, so below 1 means frostsign is cheaper.
set -euo pipefail
BIN=$(cd "$(dirname "${1:-target/release/frostsign}")" && pwd)/$(basename "${1:-target/release/frostsign}")
HERE=$(cd "$(dirname "$0")" && pwd)
MB=${BENCH_MB:-1024}
RUNS=${BENCH_RUNS:-5}
LARGE=${BENCH_LARGE:-0}
[ -x /usr/bin/time ] || { echo "make bench needs GNU time: sudo apt-get install -y time" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/frostsign-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

sha_ni=$(grep -q -w sha_ni /proc/cpuinfo && echo yes || echo no)
echo "frostsign benchmark: ${MB} MiB artifact, median of $RUNS paired runs"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), SHA extensions (sha_ni): $sha_ni, load average $(cut -d' ' -f1-3 /proc/loadavg)"
head -c $((MB * 1024 * 1024)) /dev/urandom > artifact.bin
cat artifact.bin > /dev/null   # page cache, so every tool reads from memory

echo "setting up a 2-of-2 group and signing the artifact once in every format..."
echo "bench passphrase" > pass
as() { local who=$1; shift; "$BIN" --home "h-$who" --passphrase-file pass "$@"; }
for who in a b; do as $who holder new --name "$who" --insecure-fast-kdf >/dev/null 2>&1; as $who holder export --out $who.card 2>/dev/null; done
"$BIN" dkg init --allow-insecure-cards --dir kg --threshold 2 a.card b.card >/dev/null
for _ in 1 2 3 4; do for who in a b; do as $who dkg step --dir kg --yes >/dev/null 2>&1; done; done
"$BIN" group openpgp-init --key kg/group.pub --uid "Bench <bench@example.org>" --dir pgp >/dev/null
for _ in 1 2; do for who in a b; do as $who sign step --dir pgp --yes >/dev/null 2>&1; done; "$BIN" sign collect --dir pgp >/dev/null 2>&1 || true; done
cp pgp/group.openpgp kg/group.openpgp
"$BIN" sign init --dir s --group kg/group.pub --file artifact.bin --format minisign,ssh,openpgp,signify-manifest >/dev/null
for _ in 1 2 3; do for who in a b; do as $who sign step --dir s --file artifact.bin --yes >/dev/null 2>&1; done; "$BIN" sign collect --dir s >/dev/null 2>&1 || true; done
cp s/artifact.bin.minisig s/artifact.bin.sig s/artifact.bin.asc s/SHA256.sig .
"$BIN" group export --key kg/group.pub --format minisign --out minisign.pub
"$BIN" group export --key kg/group.pub --format signify --out signify.pub
"$BIN" group export --key kg/group.pub --format allowed-signers --principal bench@example.org --out allowed_signers
"$BIN" group export --key kg/group.pub --format openpgp --out group.asc
if command -v gpg >/dev/null; then gpg --batch --quiet --dearmor < group.asc > group.gpg; fi
head -c 1024 /dev/urandom > small.bin
"$BIN" sign init --dir s1k --group kg/group.pub --file small.bin --format minisign >/dev/null
for _ in 1 2 3; do for who in a b; do as $who sign step --dir s1k --file small.bin --yes >/dev/null 2>&1; done; "$BIN" sign collect --dir s1k >/dev/null 2>&1 || true; done

# measure LABEL CMD...: one run; appends "LABEL wall cpu rss_kib" to m.txt. Exit status must be 0.
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o t.out "$@" >/dev/null 2>err.out </dev/null || { echo "FAILED: $*" >&2; cat err.out >&2; exit 1; }
  awk -v l="$label" '{printf "%s %.3f %.3f %d\n", l, $1, $2+$3, $4}' t.out >> m.txt
}
med() { # med LABEL FIELD: median of a column (2 wall, 3 cpu, 4 rss) over the runs of LABEL
  awk -v l="$1" -v f="$2" '$1==l {print $f}' m.txt | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
: > m.txt
rows=()
compare() { # compare NAME STOCK_TOOL -- FROSTSIGN_CMD... -- STOCK_CMD...
  local name=$1 tool=$2; shift 2; shift
  local fs=() st=()
  while [ "$1" != "--" ]; do fs+=("$1"); shift; done; shift
  st=("$@")
  if ! command -v "$tool" >/dev/null; then echo "($tool not installed: $name not compared; sudo apt-get install -y $tool)"; return; fi
  for _ in $(seq "$RUNS"); do measure "fs-$name" "${fs[@]}"; measure "st-$name" "${st[@]}"; done
  rows+=("$name")
}
compare "minisig_vs_minisign-V" minisign -- "$BIN" verify --key kg/group.pub artifact.bin --sig artifact.bin.minisig \
  -- minisign -Vm artifact.bin -x artifact.bin.minisig -p minisign.pub
compare "sshsig_vs_ssh-keygen-Y" ssh-keygen -- "$BIN" verify --key kg/group.pub artifact.bin --sig artifact.bin.sig \
  -- sh -c 'exec ssh-keygen -Y verify -f allowed_signers -I bench@example.org -n file -s artifact.bin.sig < artifact.bin'
compare "openpgp_vs_gpgv" gpgv -- "$BIN" verify --key kg/group.pub artifact.bin --sig artifact.bin.asc \
  -- gpgv --keyring ./group.gpg artifact.bin.asc artifact.bin
compare "manifest_vs_signify-C" signify-openbsd -- "$BIN" verify --key kg/group.pub artifact.bin --sig SHA256.sig \
  -- signify-openbsd -C -p signify.pub -x SHA256.sig artifact.bin
# `sign init` (BLAKE2b-512 and SHA-256 of the artifact) refuses an existing folder: a fresh one per run.
compare "sign-init_vs_b2sum+sha256sum" b2sum -- sh -c 'exec "$0" sign init --dir "$(mktemp -u -p . init.XXXXXX)" --group kg/group.pub --file artifact.bin --format minisign,ssh' "$BIN" \
  -- sh -c 'b2sum artifact.bin && sha256sum artifact.bin'

printf '\n%-30s %9s %9s %7s | %9s %9s %7s | %8s %8s\n' "median of $RUNS (frostsign vs stock)" "fs CPU s" "stock" "ratio" "fs wall" "stock" "ratio" "fs RSS" "stock"
for r in "${rows[@]}"; do
  fc=$(med "fs-$r" 3); sc=$(med "st-$r" 3); fw=$(med "fs-$r" 2); sw=$(med "st-$r" 2)
  fr=$(med "fs-$r" 4); sr=$(med "st-$r" 4)
  printf '%-30s %9.3f %9.3f %6.2fx | %9.3f %9.3f %6.2fx | %5.1f MiB %5.1f MiB\n' "$r" "$fc" "$sc" \
    "$(echo "$fc / ($sc + 0.0005)" | bc -l)" "$fw" "$sw" "$(echo "$fw / ($sw + 0.0005)" | bc -l)" \
    "$(echo "$fr / 1024" | bc -l)" "$(echo "$sr / 1024" | bc -l)"
done
# A signer's whole release session, all four formats: the wall time of its three `sign step`s together
# (it hashes the artifact once, at its commit; later steps sign from its journal), against the slowest of
# the session's digests computed alone by the stock tools (b2sum, sha256sum). Target: <= 1.2x.
session_wall() {
  local d; d=$(mktemp -u -p . sess.XXXXXX)
  "$BIN" sign init --dir "$d" --group kg/group.pub --file artifact.bin --format minisign,ssh,openpgp,signify-manifest >/dev/null
  local total=0
  for _ in 1 2 3; do
    /usr/bin/time -f "%e" -o t.out "$BIN" --home h-a --passphrase-file pass sign step --dir "$d" --file artifact.bin --yes >/dev/null 2>&1
    total=$(awk -v t="$total" '{printf "%.3f", t+$1}' t.out)
    as b sign step --dir "$d" --file artifact.bin --yes >/dev/null 2>&1
    "$BIN" sign collect --dir "$d" >/dev/null 2>&1 || true
  done
  echo "$total"
}
if command -v b2sum >/dev/null && command -v sha256sum >/dev/null; then
  sess=$(for _ in $(seq "$RUNS"); do session_wall; done | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  : > d.txt
  # Each digest by the fastest tool here: coreutils, or openssl (which uses the CPU's SHA extensions).
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "b2 %e" -a -o d.txt b2sum artifact.bin >/dev/null
    /usr/bin/time -f "s2 %e" -a -o d.txt sha256sum artifact.bin >/dev/null
    if command -v openssl >/dev/null; then
      /usr/bin/time -f "b2 %e" -a -o d.txt openssl dgst -blake2b512 artifact.bin >/dev/null
      /usr/bin/time -f "s2 %e" -a -o d.txt openssl dgst -sha256 artifact.bin >/dev/null
    fi
  done
  b2=$(awk '$1=="b2" {print $2}' d.txt | sort -g | head -1)
  s2=$(awk '$1=="s2" {print $2}' d.txt | sort -g | head -1)
  slow=$(echo "if ($b2 > $s2) $b2 else $s2" | bc -l)
  printf "a signer's whole session (4 formats, 3 steps), wall: %.3f s; slowest single digest alone, fastest tool: %.3f s (BLAKE2b-512 %.3f, SHA-256 %.3f); ratio %.2fx\n" \
    "$sess" "$slow" "$b2" "$s2" "$(echo "$sess / ($slow + 0.0005)" | bc -l)"
fi
# A 1 KiB verify, end to end, in milliseconds of wall time (GNU time counts in 10 ms steps: bash's own here).
wall_ms() { # median wall ms of 21 runs
  local TIMEFORMAT='%3R'
  for _ in $(seq 21); do { time "$@" >/dev/null 2>&1; } 2>&1; done | sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[11]*1000}'
}
fs1k=$(wall_ms "$BIN" verify --key kg/group.pub small.bin --sig s1k/small.bin.minisig)
ms1k=$(command -v minisign >/dev/null && wall_ms minisign -Vm small.bin -x s1k/small.bin.minisig -p minisign.pub || echo "-")
echo "1 KiB verify, end to end (median of 21, wall): frostsign ${fs1k} ms, minisign -V ${ms1k} ms"
max_rss=$(awk '$1 ~ /^fs-/ {if ($4>m) m=$4} END {print m}' m.txt)
printf 'largest frostsign peak RSS in these runs: %.1f MiB\n' "$(echo "$max_rss / 1024" | bc -l)"

echo
# The passphrase KDF a keyholder's step pays once when it unlocks its home (the default Argon2id, not the
# test KDF of the ceremonies below): `holder new` derives the home key once; besides, it only makes an
# identity key and writes three small files. A failed run stops the benchmark.
kdf() { # one `holder new` in a fresh home: prints "CPU_ms WALL_ms"
  local TIMEFORMAT='%3U %3S %3R' d; d=$(mktemp -u -p . kdf.XXXXXX)
  { time "$BIN" --home "$d" --passphrase-file pass holder new --name kdf >/dev/null 2>kdf.err; } 2>kdf.time ||
    { echo "holder new failed:" >&2; cat kdf.err >&2; exit 1; }
  awk '{printf "%.0f %.0f\n", ($1+$2)*1000, $3*1000}' kdf.time
}
: > kdf.txt
for _ in 1 2 3; do kdf >> kdf.txt; done
kdf_cpu=$(cut -d' ' -f1 kdf.txt | sort -g | sed -n 2p)
kdf_wall=$(cut -d' ' -f2 kdf.txt | sort -g | sed -n 2p)
echo "the passphrase KDF, paid once by each step that unlocks a home (default Argon2id: 256 MiB, 3 passes; \`holder new\`, median of 3): ${kdf_cpu} ms CPU, ${kdf_wall} ms wall"
echo
echo "ceremony costs per keyholder step (test KDF), CPU of each frostsign process:"
sizes=(2 3 7 10 34 50)
[ "$LARGE" = 1 ] && sizes+=(67 100)
CEREMONY_MEDIANS="$WORK/medians.txt" "$HERE/bench-ceremony.sh" "$BIN" "${sizes[@]}"
examples=$(dirname "$BIN")/examples/frost_alone
if [ -x "$examples" ]; then
  echo
  "$examples" "${sizes[@]}" | tee frost.txt
  # Everything else: a step's median CPU minus frost-ed25519's own work on the same round, measured alone
  # (round 2 includes frost's decoding of the n-1 round-1 packages; confirmation and acceptance have none;
  # signing phases 1 and 2 are each one frost round 2). It holds process start, the test KDF (well under
  # 1 ms), files, signatures, HPKE and serialisation. Target at 67-of-100: <= 20 ms per step.
  echo
  echo "beyond FROST: median CPU per keyholder step minus frost-ed25519 alone on the same round (ms):"
  printf '  %-10s %8s %8s %8s %8s %8s %8s %8s %8s\n' group "round 1" "round 2" "round 3" confirm accept "sign 1" "sign 2" "sign 3"
  awk 'FNR==NR { m[$1" "$2]=$3; next }
       $2=="dkg" { for (i=1;i<NF;i++) { if ($i=="part1") p1=$(i+1); if ($i=="packages") rd=$(i+1); if ($i=="part2") p2=$(i+1);
                                         if ($i=="part3") p3=$(i+1); if ($i=="round1") r1=$(i+1); if ($i=="round2") r2=$(i+1) }
                   g=$1; if (!((g" dkg-pass1") in m)) next
                   printf "  %-10s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n", g, m[g" dkg-pass1"]-p1, m[g" dkg-pass2"]-rd-p2,
                          m[g" dkg-pass3"]-p3, m[g" dkg-pass4"], m[g" dkg-pass5"], m[g" sign-step1"]-r1, m[g" sign-step2"]-r2, m[g" sign-step3"]-r2 }' \
    "$WORK/medians.txt" frost.txt
  floor=$(dirname "$BIN")/examples/crypto_floor
  if [ -x "$floor" ]; then
    # The floor: the per-file cryptography each step must do (signature checks, signatures, HPKE seals or
    # opens, point decoding; examples/crypto_floor.rs), timed alone. What is left above it is frostsign's
    # own engineering: process start, files, parsing, encoding, the sealed state.
    echo
    "$floor" "${sizes[@]}" | tee floor.txt
    echo
    echo "beyond FROST and the per-file cryptography (the floor above): median CPU per step minus both (ms):"
    printf '  %-10s %8s %8s %8s %8s\n' group "round 2" "round 3" confirm accept
    awk 'FNR==NR { m[$1" "$2]=$3; next }
         FILENAME ~ /frost/ && $2=="dkg" { for (i=1;i<NF;i++) { if ($i=="packages") rd[$1]=$(i+1); if ($i=="part2") p2[$1]=$(i+1); if ($i=="part3") p3[$1]=$(i+1) }; next }
         $2=="floor" { g=$1; if (!((g" dkg-pass2") in m)) next
                       printf "  %-10s %8.1f %8.1f %8.1f %8.1f\n", g, m[g" dkg-pass2"]-rd[g]-p2[g]-$4, m[g" dkg-pass3"]-p3[g]-$6,
                              m[g" dkg-pass4"]-$8, m[g" dkg-pass5"]-$10 }' \
      "$WORK/medians.txt" frost.txt floor.txt
  else
    echo "(the per-file floor: cargo build --release --example crypto_floor, then run make bench again)"
  fi
else
  echo "(frost-ed25519 alone: cargo build --release --example frost_alone, then run make bench again)"
fi
[ "$LARGE" = 1 ] || echo "(67-of-100: make bench BENCH_LARGE=1)"
