#!/usr/bin/env bash
# Regenerates keys-example/: an EXAMPLE 2-of-3 group made with the tool, three example keyholder homes
# (insecure settings, passphrases in plain files: never use these keys for anything), the files of the
# key generation and of one signing session, and an example artifact with its .minisig.
set -euo pipefail
BIN=$(cd "$(dirname "${1:-target/release/frostsign}")" && pwd)/$(basename "${1:-target/release/frostsign}")
cd "$(dirname "$0")/.."
find keys-example -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} + 2>/dev/null || true
mkdir -p keys-example/homes keys-example/cards
cd keys-example
as() { local who=$1; shift; "$BIN" --home "homes/$who" --passphrase-file "homes/$who.passphrase-EXAMPLE-ONLY" "$@"; }
for who in alice bob carol; do
  echo "example passphrase of $who -- EXAMPLE ONLY, this key is public" > "homes/$who.passphrase-EXAMPLE-ONLY"
  as "$who" holder new --name "Example ${who^}" --insecure-fast-kdf >/dev/null 2>&1
  as "$who" holder export --out "cards/$who.card" 2>/dev/null
done
"$BIN" dkg init --allow-insecure-cards --dir keygen --threshold 2 --label "frostsign example group (NOT FOR REAL USE)" cards/alice.card cards/bob.card cards/carol.card >/dev/null
for _ in 1 2 3 4; do for who in alice bob carol; do as "$who" dkg step --dir keygen --yes >/dev/null 2>&1; done; done
cp keygen/group.pub group.pub
"$BIN" group openpgp-init --key group.pub --uid "frostsign example group (NOT FOR REAL USE) <example@invalid>" --dir openpgp-init >/dev/null
for _ in 1 2; do
  for who in alice bob; do as "$who" sign step --dir openpgp-init --yes >/dev/null 2>&1; done
  "$BIN" sign collect --dir openpgp-init >/dev/null || true
done
cp openpgp-init/group.openpgp group.openpgp
"$BIN" group export --key group.pub --format minisign --out minisign.pub
"$BIN" group export --key group.pub --format signify --out signify.pub
"$BIN" group export --key group.pub --format ssh --out group.ssh.pub
"$BIN" group export --key group.pub --format allowed-signers --principal example@invalid --out allowed_signers
"$BIN" group export --key group.pub --format openpgp --out group.asc
printf 'Hello from frostsign: this file was signed 2-of-3 by the example group.\n' > hello-frostsign.txt
"$BIN" sign init --dir sign-hello --group group.pub --file hello-frostsign.txt --comment "example signature" \
  --format minisign,ssh,openpgp,signify-manifest >/dev/null
for _ in 1 2 3; do
  for who in alice carol; do as "$who" sign step --dir sign-hello --file hello-frostsign.txt --yes >/dev/null 2>&1; done
  "$BIN" sign collect --dir sign-hello >/dev/null || true
done
cp sign-hello/hello-frostsign.txt.minisig sign-hello/hello-frostsign.txt.sig sign-hello/hello-frostsign.txt.asc sign-hello/SHA256.sig .
for sig in hello-frostsign.txt.minisig hello-frostsign.txt.sig hello-frostsign.txt.asc SHA256.sig; do
  "$BIN" verify --key group.pub hello-frostsign.txt --sig "$sig" | head -1
done
