#!/usr/bin/env bash
# `make install`: the binary, shell completions and one man page per command, under a prefix.
#   scripts/install.sh BINARY PREFIX
# Lays out PREFIX/bin/frostsign, PREFIX/share/man/man1/frostsign*.1 and the bash, zsh and fish completions
# where those shells look under a prefix. Writes nothing outside PREFIX.
set -euo pipefail
BIN=${1:?usage: install.sh BINARY PREFIX}
PREFIX=${2:?usage: install.sh BINARY PREFIX}
[ -x "$BIN" ] || { echo "error: $BIN is not an executable; run \`make build\` first" >&2; exit 2; }

install -d "$PREFIX/bin" "$PREFIX/share/man/man1" "$PREFIX/share/bash-completion/completions" \
  "$PREFIX/share/zsh/site-functions" "$PREFIX/share/fish/vendor_completions.d"
install -m 0755 "$BIN" "$PREFIX/bin/frostsign"
"$PREFIX/bin/frostsign" man --dir "$PREFIX/share/man/man1"
"$PREFIX/bin/frostsign" completions bash > "$PREFIX/share/bash-completion/completions/frostsign"
"$PREFIX/bin/frostsign" completions zsh > "$PREFIX/share/zsh/site-functions/_frostsign"
"$PREFIX/bin/frostsign" completions fish > "$PREFIX/share/fish/vendor_completions.d/frostsign.fish"
echo "installed frostsign $("$PREFIX/bin/frostsign" --version | sed 's/^frostsign //') into $PREFIX"
echo "  $PREFIX/bin/frostsign, $(ls "$PREFIX/share/man/man1" | grep -c '^frostsign') man pages, completions for bash, zsh and fish"
