#!/usr/bin/env bash
# `make reproducible`: build frostsign's release binary twice from the committed source, in two folders
# with different paths, different file times and a different cargo home, at different times, and check
# that the two binaries are byte for byte the same. Prints both SHA-256 hashes; exits 1 if they differ.
#
#   scripts/reproducible.sh [--rev REV] [--expect SHA256]
#     --rev REV        the commit or tag to build (default HEAD); uncommitted changes are never built
#     --expect SHA256  also compare with a published hash (exit 1 if it differs): how a keyholder checks
#                      that the binary they were given is the one the published source builds
#   (make reproducible REV=v1.4.0 EXPECT=... passes these)
#
# On success the checked binary, its hash, a build record and an SBOM of it are left in
# $CARGO_TARGET_DIR/reproducible/ (target/reproducible/ by default): these are what a release publishes.
#
# What makes the build reproducible (each item is set below):
#   - the source is `git archive` of one commit: no untracked, ignored or modified file comes along;
#   - `cargo build --release --locked --offline`: the exact crates of Cargo.lock, each checked against its
#     SHA-256 (fetched beforehand with `cargo fetch --locked`);
#   - the same paths for everyone: each build runs in a private mount namespace (`unshare`, no root needed)
#     in which its own folder is /mnt/frostsign, its cargo home /mnt/cargo-home and the Rust toolchain
#     /mnt/rust, whatever the real folders are called; the paths compiled into the binary (panic messages,
#     file!()) are these. Where namespaces are not available the real paths are rewritten with
#     --remap-path-prefix to the same names instead (see the note printed then);
#   - the same environment for everyone: the compiler runs under `env -i` with a fixed list of variables
#     (no HOME, USER or locale of the caller), TZ=UTC, LC_ALL=C, CARGO_INCREMENTAL=0, and one jemalloc
#     arena whatever the number of processors (_RJEM_MALLOC_CONF=narenas:1);
#   - SOURCE_DATE_EPOCH = the commit's time, for any build script that would embed a date (rustc and cargo
#     embed none themselves);
#   - the release profile's codegen-units = 1 (Cargo.toml).
# Why paths and the environment must be the same and not only remapped: with rustc 1.95 (LLVM 22) one
# optimisation orders the incoming edges of a PHI node by memory address, so the bytes of the binary
# depend on the heap layout of the compiler, which shifts with the LENGTH of any path or environment
# variable rustc sees. Measured here: remapped builds in folders of different lengths, or with one more
# environment variable, gave two different binaries (a99d4f9b... / ba7040cc...); same lengths gave the same.
# What must still be the same: the Rust toolchain (rustc's version and commit are recorded, see
# BUILDINFO.txt), the target triple, and the system linker and C library the binary links with.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

REV=HEAD
EXPECT=
while [ $# -gt 0 ]; do
  case "$1" in
  --rev) REV=${2:?--rev needs a commit or tag}; shift 2 ;;
  --expect) EXPECT=${2:?--expect needs a SHA-256}; shift 2 ;;
  *) echo "usage: $0 [--rev REV] [--expect SHA256]" >&2; exit 2 ;;
  esac
done
EXPECT=$(printf '%s' "$EXPECT" | tr 'A-F' 'a-f')
if [ -n "$EXPECT" ] && ! [[ "$EXPECT" =~ ^[0-9a-f]{64}$ ]]; then
  echo "error: --expect takes a SHA-256 in hex (64 characters), not \`$EXPECT\`" >&2
  exit 2
fi

for tool in git tar sha256sum cargo rustc; do
  command -v "$tool" >/dev/null || { echo "error: \`$tool\` is needed and not installed" >&2; exit 2; }
done
commit=$(git rev-parse --verify --quiet "$REV^{commit}") || {
  echo "error: \`$REV\` is not a commit or tag of this repository (git fetch --tags?)" >&2
  exit 2
}
if [ "$REV" = HEAD ] && [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "note: the working tree has uncommitted changes; they are NOT built: this builds commit $commit" >&2
fi
SOURCE_DATE_EPOCH=$(git show -s --format=%ct "$commit")
export SOURCE_DATE_EPOCH

OUT_DIR=${CARGO_TARGET_DIR:-$REPO/target}/reproducible
rm -rf "$OUT_DIR"   # never leave an earlier run's binary where this run's result is expected
REAL_CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
SYSROOT=$(rustc --print sysroot)
HOST=$(rustc -vV | sed -n 's/^host: //p')
[ -x "$SYSROOT/bin/cargo" ] || { echo "error: no cargo next to rustc in $SYSROOT/bin" >&2; exit 2; }

# Can this machine give each build the canonical paths (a private mount namespace, without root)?
# (REPRO_MODE=remap forces the fallback, to compare the two.)
if [ "${REPRO_MODE:-}" = remap ]; then
  MODE=remap
elif unshare --user --map-root-user --mount sh -c 'mount -t tmpfs none /mnt' 2>/dev/null; then
  MODE=namespace
else
  MODE=remap
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/frostsign-reproducible.XXXXXX")
keep=0
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

echo "Building frostsign $(git describe --always --tags "$commit") (commit $commit) twice"
echo "  SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S UTC'))"
echo "  $(rustc -V), $(cargo -V), host $HOST"
if [ "$MODE" = namespace ]; then
  echo "  paths: each build sees its folder as /mnt/frostsign, its cargo home as /mnt/cargo-home, the toolchain as /mnt/rust"
else
  echo "  note: no private mount namespace (unshare --user --mount failed, or REPRO_MODE=remap)," >&2
  echo "  so real paths are rewritten with --remap-path-prefix instead. With rustc 1.95 the result can then" >&2
  echo "  depend on the lengths of the paths and of the environment: compare only with hashes made in the" >&2
  echo "  same mode (the release's BUILDINFO.txt says which). Enable user namespaces for the reliable mode." >&2
fi

git show "$commit:Cargo.lock" >/dev/null 2>&1 || { echo "error: Cargo.lock is not committed in $commit" >&2; exit 2; }
# build NAME DIR [touch]: one release build of the archived commit in DIR/src with its own cargo home
# DIR/cargo-home (sharing only the downloaded .crate files and the index: the crates are unpacked again
# for each build); `touch` dates every source file now instead of at the commit's time.
build() {
  local name=$1 dir=$2
  local src="$dir/src" home="$dir/cargo-home"
  mkdir -p "$src" "$home/registry"
  git archive --format=tar "$commit" | tar -xf - -C "$src"
  if [ "${3:-}" = touch ]; then find "$src" -exec touch {} +; fi
  # Every locked crate into the local cache (a no-op when they are there; otherwise a download from
  # crates.io, each crate checked against Cargo.lock's SHA-256). The build itself then runs offline.
  (cd "$src" && CARGO_HOME="$REAL_CARGO_HOME" "$SYSROOT/bin/cargo" fetch --locked --target "$HOST" --quiet)
  for d in index cache; do
    if [ -d "$REAL_CARGO_HOME/registry/$d" ]; then ln -s "$REAL_CARGO_HOME/registry/$d" "$home/registry/$d"; fi
  done
  for cfg in config.toml config; do
    if [ -f "$REAL_CARGO_HOME/$cfg" ]; then cp "$REAL_CARGO_HOME/$cfg" "$home/"; fi
  done
  # The one environment the compiler sees (nothing else of the caller's comes through).
  local fixed_env=(TZ=UTC LC_ALL=C CARGO_INCREMENTAL=0 _RJEM_MALLOC_CONF=narenas:1
    "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH" CARGO_TERM_COLOR=never)
  echo
  echo "== build $name: in $dir, started $(date -u '+%H:%M:%S UTC')"
  if [ "$MODE" = namespace ]; then
    unshare --user --map-root-user --mount /bin/sh -e -c '
      mount -t tmpfs frostsign-build /mnt
      mkdir /mnt/frostsign /mnt/cargo-home /mnt/rust
      mount --bind "$1" /mnt/frostsign
      mount --bind "$2" /mnt/cargo-home
      mount --bind "$3" /mnt/rust
      shift 3
      cd /mnt/frostsign
      exec env -i PATH=/mnt/rust/bin:/usr/bin:/bin HOME=/mnt/cargo-home CARGO_HOME=/mnt/cargo-home \
        CARGO_TARGET_DIR=/mnt/frostsign/target "$@" \
        /mnt/rust/bin/cargo build --release --locked --offline' \
      sh "$src" "$home" "$SYSROOT" "${fixed_env[@]}"
  else
    local flags=(
      "--remap-path-prefix=$src=/mnt/frostsign"
      "--remap-path-prefix=$home=/mnt/cargo-home"
      "--remap-path-prefix=$SYSROOT=/mnt/rust"
    )
    (
      cd "$src"
      IFS=$'\x1f'
      exec env -i PATH="$SYSROOT/bin:/usr/bin:/bin" HOME="$home" CARGO_HOME="$home" \
        CARGO_TARGET_DIR="$src/target" CARGO_ENCODED_RUSTFLAGS="${flags[*]}" "${fixed_env[@]}" \
        "$SYSROOT/bin/cargo" build --release --locked --offline
    )
  fi
}

# Build 1: source files dated now (as a fresh checkout is).
DIR1="$WORK/one"
build 1 "$DIR1" touch
# Build 2: a deeper folder with other names and lengths, source files dated at the commit (as git archive
# leaves them), a caller environment with one more (large) variable, started later.
DIR2="$WORK/second-build/checkout-$(printf '%.12s' "$commit")-elsewhere"
sleep 2
FROSTSIGN_REPRODUCIBLE_NOISE=$(head -c 3000 /dev/zero | tr '\0' x) build 2 "$DIR2"

SRC1="$DIR1/src"
SRC2="$DIR2/src"
BIN1="$SRC1/target/release/frostsign"
BIN2="$SRC2/target/release/frostsign"
H1=$(sha256sum "$BIN1" | cut -d' ' -f1)
H2=$(sha256sum "$BIN2" | cut -d' ' -f1)
echo
echo "build 1: $H1  ($SRC1)"
echo "build 2: $H2  ($SRC2)"
if [ "$H1" != "$H2" ]; then
  keep=1
  echo "error: NOT reproducible: the two builds of commit $commit differ" >&2
  echo "  both trees are kept in $WORK; compare the binaries, e.g. \`diffoscope $BIN1 $BIN2\`" >&2
  echo "  (apt-get install diffoscope), and look for paths or times that leak into the build" >&2
  exit 1
fi
echo "reproducible: both builds of commit $commit are byte-identical, SHA-256 $H1"

mkdir -p "$OUT_DIR"
cp "$BIN1" "$OUT_DIR/frostsign"
(cd "$OUT_DIR" && sha256sum frostsign > frostsign.sha256)
{
  echo "frostsign release build record"
  echo "commit: $commit"
  echo "describe: $(git describe --always --tags "$commit")"
  echo "SOURCE_DATE_EPOCH: $SOURCE_DATE_EPOCH"
  echo "sha256: $H1"
  echo "command: cargo build --release --locked --offline (scripts/reproducible.sh)"
  echo "mode: $MODE (namespace: built as /mnt/frostsign with cargo home /mnt/cargo-home and toolchain /mnt/rust; remap: the same names through --remap-path-prefix)"
  echo "environment: env -i PATH HOME CARGO_HOME CARGO_TARGET_DIR TZ=UTC LC_ALL=C CARGO_INCREMENTAL=0 _RJEM_MALLOC_CONF=narenas:1 SOURCE_DATE_EPOCH CARGO_TERM_COLOR=never"
  echo "rustc -vV:"
  rustc -vV | sed 's/^/  /'
  echo "cargo: $(cargo -V)"
  echo "linker: $(cc --version 2>/dev/null | head -1 || echo unknown)"
  echo "libc: $(ldd --version 2>/dev/null | head -1 || echo unknown)"
} > "$OUT_DIR/BUILDINFO.txt"
if command -v python3 >/dev/null; then
  python3 "$REPO/scripts/sbom.py" --out "$OUT_DIR/frostsign.cdx.json" --binary "$OUT_DIR/frostsign" \
    --manifest-dir "$SRC1" --commit "$commit" >/dev/null && sbom=" frostsign.cdx.json" || sbom=
fi
echo "wrote $OUT_DIR/: frostsign frostsign.sha256 BUILDINFO.txt${sbom:-}"

if [ -n "$EXPECT" ]; then
  if [ "$EXPECT" = "$H1" ]; then
    echo "matches the expected (published) SHA-256: $EXPECT"
  else
    echo "error: the published SHA-256 $EXPECT is NOT what commit $commit builds ($H1) here" >&2
    echo "  do not trust or sign the published binary until you know why: same tag? same toolchain" >&2
    echo "  ($(rustc -V))? same target ($HOST)? see BUILDINFO.txt of the release" >&2
    exit 1
  fi
fi
