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
#   - `cargo build --release --locked`: the exact crates of Cargo.lock, each checked against its SHA-256;
#   - --remap-path-prefix for the source folder (the target folder is inside it), for the cargo home
#     (where crates.io sources are unpacked) and for the Rust toolchain: no path of this machine ends up in
#     the binary (panic messages and file!() carry paths), so any folder and any user name give the same
#     bytes;
#   - CARGO_INCREMENTAL=0, and the release profile's codegen-units = 1 (Cargo.toml): compilation does not
#     depend on scheduling;
#   - SOURCE_DATE_EPOCH = the commit's time, for any build script that would embed a date (rustc and cargo
#     embed none themselves), TZ=UTC and LC_ALL=C;
#   - no RUSTFLAGS, RUSTC_WRAPPER or cargo build settings from the caller's environment.
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

# The caller's settings that could change the output are dropped; the build's own are set per build.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS RUSTDOCFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_RUSTFLAGS \
  CARGO_BUILD_TARGET CARGO_BUILD_TARGET_DIR CARGO_PROFILE_RELEASE_DEBUG CARGO_PROFILE_RELEASE_STRIP
export CARGO_INCREMENTAL=0 TZ=UTC LC_ALL=C
OUT_DIR=${CARGO_TARGET_DIR:-$REPO/target}/reproducible
unset CARGO_TARGET_DIR

REAL_CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
SYSROOT=$(rustc --print sysroot)
HOST=$(rustc -vV | sed -n 's/^host: //p')

WORK=$(mktemp -d "${TMPDIR:-/tmp}/frostsign-reproducible.XXXXXX")
keep=0
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

echo "Building frostsign $(git describe --always --tags "$commit") (commit $commit) twice"
echo "  SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S UTC'))"
echo "  $(rustc -V), $(cargo -V), host $HOST"

# Make sure every locked crate is in the local cache (a no-op when it is; downloads from crates.io
# otherwise, each crate checked against Cargo.lock's SHA-256).
git show "$commit:Cargo.lock" >/dev/null 2>&1 || { echo "error: Cargo.lock is not committed in $commit" >&2; exit 2; }

# build NAME SRC CARGO_HOME [touch]: one release build of the archived commit in SRC, with its own cargo
# home; `touch` dates every source file now instead of at the commit's time (as git archive leaves them).
build() {
  local name=$1 src=$2 home=$3
  mkdir -p "$src"
  git archive --format=tar "$commit" | tar -xf - -C "$src"
  if [ "${4:-}" = touch ]; then find "$src" -exec touch {} +; fi
  local flags=(
    "--remap-path-prefix=$src=/build/frostsign"
    "--remap-path-prefix=$home=/build/cargo-home"
    "--remap-path-prefix=$SYSROOT=/build/rust-toolchain"
  )
  local IFS=$'\x1f'
  echo
  echo "== build $name: in $src, cargo home $home, started $(date -u '+%H:%M:%S UTC')"
  (
    cd "$src"
    export CARGO_HOME="$home" CARGO_TARGET_DIR="$src/target" CARGO_ENCODED_RUSTFLAGS="${flags[*]}"
    cargo fetch --locked --target "$HOST" --quiet
    cargo build --release --locked
  )
}

# Build 1: the caller's cargo home; source files dated now (as a fresh checkout is).
SRC1="$WORK/one/frostsign"
build 1 "$SRC1" "$REAL_CARGO_HOME" touch

# Build 2: a deeper folder with another name, source files dated at the commit (as git archive leaves
# them), a cargo home elsewhere (sharing only the downloaded .crate files and the index, so the crates are
# unpacked again under the new path), started later.
SRC2="$WORK/second-build/checkout-$(printf '%.12s' "$commit")/src/frostsign"
HOME2="$WORK/second-build/cargo-home"
mkdir -p "$HOME2/registry"
for d in index cache; do
  if [ -d "$REAL_CARGO_HOME/registry/$d" ]; then ln -s "$REAL_CARGO_HOME/registry/$d" "$HOME2/registry/$d"; fi
done
for cfg in config.toml config; do
  if [ -f "$REAL_CARGO_HOME/$cfg" ]; then cp "$REAL_CARGO_HOME/$cfg" "$HOME2/"; fi
done
sleep 2
build 2 "$SRC2" "$HOME2"

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
  echo "command: cargo build --release --locked (CARGO_INCREMENTAL=0, TZ=UTC, LC_ALL=C)"
  echo "rustflags: --remap-path-prefix=<source>=/build/frostsign --remap-path-prefix=<cargo home>=/build/cargo-home --remap-path-prefix=<rustc --print sysroot>=/build/rust-toolchain"
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
