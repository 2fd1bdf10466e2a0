#!/usr/bin/env bash
# `make demo`: the main job of frostsign, end to end, with three simulated keyholders on this machine.
#   1. three keyholders create their identities;
#   2. they run a 2-of-3 distributed key generation by exchanging files in a folder;
#   3. the group enables OpenPGP once (it certifies its own OpenPGP key in a short session);
#   4. a release manager opens a signing request for an example artifact, in every format;
#   5. two of the three (Alice and Carol) co-sign it; Bob is not needed;
#   6. anyone verifies the result with the ONE group public key: frostsign, then the stock tools present
#      (minisign, ssh-keygen, gpg, signify);
#  6b. verify.html, the offline verification page of the demo group, is written (`frostsign group page`);
#   8. a keyholder is replaced: Bob leaves (a refresh without him), Dave is enrolled (a repair for a new
#      identifier); the key stays the same; the group approves each new version of its membership, and a
#      user holding the first group.pub accepts the last one with `group update`;
#   9. release 1.1, signed by Carol and Dave, verifies with the same minisign.pub.
set -euo pipefail

BIN=${1:-target/release/frostsign}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/frostsign-demo.XXXXXX")
cd "$WORK"

say()  { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run()  { printf '$ %s\n' "$*" | sed "s#$BIN#frostsign#g"; "$@"; }
fs()   { run "$BIN" "$@"; }
as()   { local who=$1; shift; run "$BIN" --home "homes/$who" --passphrase-file "$who.passphrase" "$@"; }

say "Working in $WORK (everything stays in this folder)"
echo "Each simulated keyholder has a home (its private, encrypted store) and a passphrase file."
echo "Demo homes use --insecure-fast-kdf so the demo runs in seconds; real homes use Argon2id at 256 MiB."

say "1. Each keyholder creates an identity and exports a public card"
for who in alice bob carol; do
  printf 'demo passphrase of %s (never put real passphrases in files like this)\n' "$who" > "$who.passphrase"
  chmod 600 "$who.passphrase"
  as "$who" holder new --name "${who^}" --insecure-fast-kdf
  as "$who" holder export --out "$who.card"
done
echo "Each keyholder reads its fingerprint aloud (\`frostsign holder show\`) so the others can check the cards."

say "2. Key generation: 2-of-3, files exchanged through the folder 'keygen'"
fs dkg init --allow-insecure-cards --dir keygen --threshold 2 --label "Demo project releases" alice.card bob.card carol.card
for round in 1 2 3 4; do
  echo "-- pass $round: each keyholder runs 'dkg step' (it does whatever is possible now)"
  for who in alice bob carol; do as "$who" dkg step --dir keygen --yes; done
done
fs dkg status --dir keygen
fs group show --key keygen/group.pub

say "3. The group enables OpenPGP once: Alice and Bob certify the group's OpenPGP key"
fs group openpgp-init --key keygen/group.pub --uid "Demo project releases <releases@example.org>" --dir openpgp-init
for pass in commit shares; do
  echo "-- keyholders: $pass"
  for who in alice bob; do as "$who" sign step --dir openpgp-init --yes; done
  fs sign collect --dir openpgp-init || true
done
run cp openpgp-init/group.openpgp keygen/group.openpgp

say "4. The release manager opens a signing request (no secret needed), in every output format"
mkdir -p dist
printf 'frostsign demo release %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > dist/demo-1.0.tar.gz
head -c 200000 /dev/urandom >> dist/demo-1.0.tar.gz
fs sign init --dir release-1.0 --group keygen/group.pub --file dist/demo-1.0.tar.gz --comment "demo 1.0" \
   --format minisign,ssh,openpgp,signify-manifest

say "5. Alice and Carol co-sign, each from their OWN copy of the artifact (Bob is not needed)"
for who in alice carol; do mkdir -p "build-$who"; cp dist/demo-1.0.tar.gz "build-$who/"; done
for pass in commit "phase-1 shares" "phase-2 shares"; do
  echo "-- keyholders: $pass"
  for who in alice carol; do as "$who" sign step --dir release-1.0 --file "build-$who/demo-1.0.tar.gz" --yes; done
  echo "-- coordinator: collect"
  fs sign collect --dir release-1.0 || true
done
fs sign status --dir release-1.0

say "6. Anyone verifies the download with the ONE group public key"
cp release-1.0/demo-1.0.tar.gz.* release-1.0/SHA256.sig dist/
for sig in minisig sig asc; do fs verify --key keygen/group.pub dist/demo-1.0.tar.gz --sig "dist/demo-1.0.tar.gz.$sig"; done
fs verify --key keygen/group.pub dist/demo-1.0.tar.gz --sig dist/SHA256.sig
fs group export --key keygen/group.pub --format minisign --out minisign.pub
fs group export --key keygen/group.pub --format signify --out signify.pub
fs group export --key keygen/group.pub --format allowed-signers --principal releases@example.org --out allowed_signers
fs group export --key keygen/group.pub --format openpgp --out group.asc
missing=()
if command -v minisign >/dev/null 2>&1; then run minisign -Vm dist/demo-1.0.tar.gz -p minisign.pub; else missing+=(minisign); fi
if command -v ssh-keygen >/dev/null 2>&1; then
  run sh -c 'ssh-keygen -Y verify -f allowed_signers -I releases@example.org -n file -s dist/demo-1.0.tar.gz.sig < dist/demo-1.0.tar.gz'
else missing+=(openssh-client); fi
if command -v gpg >/dev/null 2>&1; then
  mkdir -m 700 gnupg
  run gpg --batch --quiet --homedir gnupg --import group.asc
  run gpg --batch --homedir gnupg --verify dist/demo-1.0.tar.gz.asc dist/demo-1.0.tar.gz
else missing+=(gnupg); fi
if command -v signify-openbsd >/dev/null 2>&1; then
  run sh -c 'cd dist && signify-openbsd -C -p ../signify.pub -x SHA256.sig'
else missing+=(signify-openbsd); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "(not installed, so not shown: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]})"
fi

say "6b. A page that verifies downloads in the browser, offline, with the group key built in"
fs group page --key keygen/group.pub --out verify.html --title "Verify Demo project downloads"
echo "Open $WORK/verify.html in a browser (from file://, no network needed) and choose"
echo "$WORK/dist/demo-1.0.tar.gz with its .minisig, .sig, .asc or SHA256.sig beside it: it says Valid."

say "7. A tampered download is rejected (exit 1)"
cp dist/demo-1.0.tar.gz tampered.tar.gz; printf 'x' >> tampered.tar.gz
set +e; fs verify --key keygen/group.pub tampered.tar.gz --sig dist/demo-1.0.tar.gz.minisig; code=$?; set -e
echo "exit code: $code"
[ "$code" -eq 1 ]

say "8. A keyholder is replaced: Bob leaves, Dave joins, and the key stays the same"
echo "-- Alice and Carol refresh their shares without Bob: his old share now combines with no one's"
as alice share refresh --dir remove-bob --group keygen/group.pub --remove Bob --yes
for pass in 1 2 3; do
  for who in alice carol; do as "$who" share refresh --dir remove-bob --group keygen/group.pub --remove Bob --yes; done
done
fs dkg status --dir remove-bob
echo "-- Alice and Carol approve version 2 of the group (its membership statement, signed like a release)"
approve() { # approve DIR GROUP SIGNER...: a membership approval session signed by the given keyholders
  local dir=$1 group=$2; shift 2
  fs group approve --key "$group" --dir "$dir"
  for pass in commit shares; do
    for who in "$@"; do as "$who" sign step --dir "$dir" --yes; done
    fs sign collect --dir "$dir" || true
  done
}
approve approve-v2 remove-bob/group.pub alice carol
echo "-- Dave makes an identity; Alice and Carol enrol him (they rebuild a share for his new identifier)"
printf 'demo passphrase of dave (never put real passphrases in files like this)\n' > dave.passphrase
chmod 600 dave.passphrase
as dave holder new --name Dave --insecure-fast-kdf
as dave holder export --out dave.card
as alice share repair --dir enrol-dave --group approve-v2/group-approved.pub --for dave.card --yes
for pass in 1 2 3; do
  for who in alice carol dave; do as "$who" share repair --dir enrol-dave --group approve-v2/group-approved.pub --for dave.card --yes; done
done
fs dkg status --dir enrol-dave
approve approve-v3 enrol-dave/group.pub carol dave
fs group show --key approve-v3/group-approved.pub
echo "-- A user who pinned the first group.pub accepts version 3: every version between is approved by the group"
cp keygen/group.pub pinned-group.pub
fs group update --from pinned-group.pub --to approve-v3/group-approved.pub

say "9. Release 1.1, signed by Carol and Dave, verifies with the SAME minisign.pub as release 1.0"
printf 'frostsign demo release 1.1\n' > dist/demo-1.1.tar.gz
fs sign init --dir release-1.1 --group approve-v3/group-approved.pub --file dist/demo-1.1.tar.gz --comment "demo 1.1"
for who in carol dave; do mkdir -p "build-$who"; cp dist/demo-1.1.tar.gz "build-$who/"; done
for pass in commit "phase-1 shares" "phase-2 shares"; do
  for who in carol dave; do as "$who" sign step --dir release-1.1 --file "build-$who/demo-1.1.tar.gz" --yes; done
  fs sign collect --dir release-1.1 || true
done
fs verify --key minisign.pub dist/demo-1.1.tar.gz --sig release-1.1/demo-1.1.tar.gz.minisig
if command -v minisign >/dev/null 2>&1; then
  run minisign -Vm dist/demo-1.1.tar.gz -x release-1.1/demo-1.1.tar.gz.minisig -p minisign.pub
fi

say "Done. Files are in $WORK"
echo "The offline verification page for the demo group: $WORK/verify.html"
