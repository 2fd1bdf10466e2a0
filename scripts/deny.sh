#!/usr/bin/env bash
# The dependency policy (deny.toml), checked offline with cargo-deny.
#
#   scripts/deny.sh check     `cargo deny check licenses bans sources` on this checkout (make deny, make test)
#   scripts/deny.sh install   install the pinned cargo-deny (.ci/run)
#   scripts/deny.sh version   print the pinned version
#
# Without cargo-deny, `check` says loudly that the policy was NOT checked and how to install it, records
# the skip for `make test`'s summary, and exits 0; under CI=true a missing cargo-deny fails instead.
# The `advisories` check is not run: it needs the RustSec database from the network, which this
# project's machines cannot reach (docs/dependencies.md records the review done by hand).
set -euo pipefail
cd "$(dirname "$0")/.."

# The one place the version is pinned (docs/dependencies.md and .ci/run refer here).
CARGO_DENY_VERSION=0.20.2
INSTALL="cargo install --locked cargo-deny@$CARGO_DENY_VERSION"
CARGO=${CARGO:-cargo}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SKIPPED="$TARGET_DIR/tmp/supply-skipped.txt"

is_ci() { [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; }

have_deny() { "$CARGO" deny --version >/dev/null 2>&1; }

case "${1:-check}" in
version)
  echo "$CARGO_DENY_VERSION"
  ;;
install)
  if have_deny && [ "$("$CARGO" deny --version | awk '{print $2}')" = "$CARGO_DENY_VERSION" ]; then
    echo "cargo-deny $CARGO_DENY_VERSION is installed"
  else
    echo "installing cargo-deny $CARGO_DENY_VERSION (pinned in scripts/deny.sh): $INSTALL"
    $INSTALL
  fi
  ;;
check)
  if ! have_deny; then
    if is_ci; then
      echo "error: cargo-deny is not installed and CI=true: the dependency policy (deny.toml) must be checked" >&2
      echo "  help: $INSTALL   (.ci/run does this with scripts/deny.sh install)" >&2
      exit 1
    fi
    {
      echo
      echo "*****************************************************************************"
      echo "*** WARNING: the dependency policy (deny.toml) was NOT checked: cargo-deny is not installed."
      echo "*** Install it with:"
      echo "***   $INSTALL"
      echo "*** then run \`make deny\` (under CI=true a missing cargo-deny fails the run instead)"
      echo "*****************************************************************************"
    } >&2
    mkdir -p "$(dirname "$SKIPPED")"
    echo "make deny: \`cargo deny check licenses bans sources\` on this checkout" >> "$SKIPPED"
    exit 0
  fi
  have=$("$CARGO" deny --version | awk '{print $2}')
  if [ "$have" != "$CARGO_DENY_VERSION" ]; then
    echo "note: cargo-deny $have is installed; the project pins $CARGO_DENY_VERSION ($INSTALL)" >&2
  fi
  echo "cargo deny --offline --locked check licenses bans sources   (cargo-deny $have, policy in deny.toml)"
  # --offline: everything comes from Cargo.lock and the local crate cache; --locked: Cargo.lock must not
  # change. The inclusion graphs (which crate pulls in which) are long: they are printed on failure only.
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  set +e
  "$CARGO" deny --offline --locked check --hide-inclusion-graph licenses bans sources 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" != 0 ]; then
    if grep -q 'FAILED' "$log"; then
      echo >&2
      echo "=== the dependency policy is broken; where each crate above comes from:" >&2
      "$CARGO" deny --offline --locked check licenses bans sources >&2 || true
      echo "error: \`cargo deny check licenses bans sources\` failed: see above, deny.toml and docs/dependencies.md" >&2
    else
      echo "error: cargo-deny could not read the dependency graph (see above). Cargo.lock must match Cargo.toml" >&2
      echo "  (--locked: run a build to update it, and commit it), and every locked crate must be in the local" >&2
      echo "  cache (--offline: \`cargo fetch --locked\` or any build downloads them)" >&2
    fi
    exit 1
  fi
  ;;
*)
  echo "usage: $0 [check|install|version]" >&2
  exit 2
  ;;
esac
