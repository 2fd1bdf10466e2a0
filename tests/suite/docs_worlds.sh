# The worlds in which tests/suite/docs_blocks.rs runs the shell blocks of README.md and docs/*.md.
#
# Sourced by bash with W (the world's root) set and the binary under test first on PATH. A world is a
# team's shared folder ($W/work, where every command runs) and one HOME per person ($W/people/NAME, with
# ~/.frostsign, a passphrase file, a git identity and the person's own copies of the release build). A
# block's <!-- docs-test: world NAME --> comment picks the world; the functions below build it with the
# same commands the guides teach, so a world that no longer builds fails the test too.
#
# Test homes use the clearly marked insecure fast KDF (`frostsign` below adds --insecure-fast-kdf to
# `holder new` and --allow-insecure-cards where cards are read), and a simulated person answers "y" when
# asked to join or commit (--yes): the tests have no terminal.

PEOPLE="alice bob carol dave"

# frostsign, as the simulated people run it (see above).
frostsign() {
    local pre=() extra=() wanted=() e
    while [ $# -ge 2 ] && { [ "$1" = --home ] || [ "$1" = --passphrase-file ]; }; do
        pre+=("$1" "$2")
        shift 2
    done
    case "${1:-} ${2:-}" in
    "holder new") extra=(--insecure-fast-kdf) ;;
    "dkg init" | "dealer split") extra=(--allow-insecure-cards) ;;
    "dkg step" | "sign step" | "share refresh" | "share repair" | "dealer accept") extra=(--yes) ;;
    esac
    for e in "${extra[@]}"; do
        case " $* " in *" $e "*) ;; *) wanted+=("$e") ;; esac
    done
    if [ ${#wanted[@]} -gt 0 ]; then
        local a=$1 b=$2
        shift 2
        set -- "$a" "$b" "${wanted[@]}" "$@"
    fi
    command frostsign "${pre[@]}" "$@"
}

# `as NAME CMD...`: run CMD as that person (its HOME, its passphrase file).
as() {
    local who=$1
    shift
    (
        export HOME="$W/people/$who" FROSTSIGN_PASSPHRASE_FILE="$W/people/$who/passphrase"
        "$@"
    )
}

capitalized() { echo "${1^}"; }

# Every person: a HOME with a passphrase file, a git identity and their own build of the release.
world_people() {
    mkdir -p "$W/work"
    for p in $PEOPLE; do
        mkdir -p "$W/people/$p"
        chmod 700 "$W/people/$p"
        printf 'passphrase of %s\n' "$p" >"$W/people/$p/passphrase"
        chmod 600 "$W/people/$p/passphrase"
        printf '[user]\n\tname = %s\n\temail = %s@example.org\n[init]\n\tdefaultBranch = main\n' \
            "$(capitalized "$p")" "$p" >"$W/people/$p/.gitconfig"
    done
    release_build "$W/work/dist"
    for p in $PEOPLE; do
        release_build "$W/people/$p/build"
        release_build "$W/people/$p/my-build"
    done
}

# The release artifacts every build produces, byte for byte (a reproducible build).
release_build() {
    mkdir -p "$1"
    printf 'app 1.4.0, source and binaries\n' >"$1/app-1.4.0.tar.gz"
    printf 'app 1.4.0, zipped\n' >"$1/app-1.4.0.zip"
}

# `enrol NAME...`: each person makes its keyholder identity and puts its card in the current folder.
enrol() {
    for p in "$@"; do
        as "$p" frostsign holder new --name "$(capitalized "$p")" >/dev/null 2>&1
        as "$p" frostsign holder export --out "$p.card" >/dev/null 2>&1
    done
}

# `keygen DIR T NAME...`: a whole key generation in DIR by these enrolled people (label "ACME releases").
keygen() {
    local dir=$1 t=$2
    shift 2
    local cards=()
    for p in "$@"; do cards+=("$p.card"); done
    frostsign dkg init --dir "$dir" --threshold "$t" --label "ACME releases" "${cards[@]}" >/dev/null
    finish_keygen "$dir" "$@"
}

# `finish_keygen DIR NAME...`: these people step in DIR until its key generation is complete.
finish_keygen() {
    local dir=$1
    shift
    for _ in 1 2 3 4; do
        for p in "$@"; do as "$p" frostsign dkg step --dir "$dir" >/dev/null; done
    done
    frostsign dkg status --dir "$dir" >/dev/null
}

# People with keyholder identities, and their cards in the shared folder.
world_cards() {
    world_people
    cd "$W/work"
    enrol alice bob carol
}

# A finished 2-of-3 key generation "ACME releases" in keygen/, its group.pub in the shared folder.
world_group() {
    world_cards
    cd "$W/work"
    keygen keygen 2 alice bob carol
    cp keygen/group.pub group.pub
}

# A 2-of-3 key generation in acme-keygen/ that everyone joined and nobody finished.
world_keygen_in_progress() {
    world_cards
    cd "$W/work"
    frostsign dkg init --dir acme-keygen --threshold 2 --label "ACME releases" alice.card bob.card carol.card >/dev/null
    for p in alice bob carol; do as "$p" frostsign dkg step --dir acme-keygen >/dev/null; done
}

# `clones`: a shared bare repository $W/shared.git and each person's clone of it in ~/clone.
clones() {
    git init -q --bare "$W/shared.git"
    local first="$W/people/alice/clone"
    as alice git clone -q "$W/shared.git" "$first" 2>/dev/null
    printf 'ceremonies of ACME releases\n' >"$first/README"
    (cd "$first" && git add README && as alice git commit -q -m "shared folder" && git push -q -u origin main)
    for p in $PEOPLE; do
        [ "$p" = alice ] || as "$p" git clone -q "$W/shared.git" "$W/people/$p/clone"
    done
}

# People with identities, each with a clone of one shared repository; the cards are in Alice's clone.
world_git_cards() {
    world_cards
    clones
    cp "$W/work"/*.card "$W/people/alice/clone/"
}

# The 2-of-3 group, each person with a clone of one shared repository; Alice's clone holds the group file
# (keygen/group.pub) and the release build (dist/).
world_git_group() {
    world_group
    clones
    mkdir -p "$W/people/alice/clone/keygen"
    cp "$W/work/keygen/group.pub" "$W/people/alice/clone/keygen/"
    cp -r "$W/work/dist" "$W/people/alice/clone/"
}

# The 2-of-3 group, and the project's repository: the shared folder is a clone of it with `main` pushed to
# origin, and each person has its own clone in ~/src/acme.
world_tags() {
    world_group
    git init -q --bare "$W/acme.git"
    cd "$W/work"
    git init -q .
    printf 'app\n' >README
    git add README
    as alice git commit -q -m "app 1.4.0"
    git remote add origin "$W/acme.git"
    git push -q origin main
    for p in $PEOPLE; do as "$p" git clone -q "$W/acme.git" "$W/people/$p/src/acme" 2>/dev/null; done
}

# Run the signing session in $1 with signers alice and bob, each stepping with its own copy of the
# artifact named $2 (if any), until `sign collect` completes.
sign_session() {
    local dir=$1 artifact=${2:-}
    for _ in 1 2 3 4; do
        for p in alice bob; do
            if [ -n "$artifact" ]; then
                as "$p" frostsign sign step --dir "$dir" --file "$W/people/$p/build/$artifact" >/dev/null
            else
                as "$p" frostsign sign step --dir "$dir" >/dev/null
            fi
        done
        if frostsign sign collect --dir "$dir" >/dev/null 2>&1; then return 0; fi
    done
    echo "the session in $dir did not complete" >&2
    return 1
}

# The group can sign OpenPGP (group.openpgp beside group.pub), and release 1.4.0 is signed in all four
# formats; the signatures and every exported key a user needs are in the shared folder.
world_release() {
    world_group
    cd "$W/work"
    frostsign group openpgp-init --key group.pub --uid "ACME releases <releases@example.org>" --dir openpgp-init >/dev/null
    sign_session openpgp-init
    cp openpgp-init/group.openpgp group.openpgp
    frostsign sign init --dir released-1.4.0 --group group.pub --file dist/app-1.4.0.tar.gz \
        --comment "release 1.4.0" --format minisign,ssh,openpgp,signify-manifest >/dev/null
    sign_session released-1.4.0 app-1.4.0.tar.gz
    cp dist/app-1.4.0.tar.gz released-1.4.0/app-1.4.0.tar.gz.* released-1.4.0/SHA256* .
    frostsign group export --key group.pub --format minisign --out minisign.pub >/dev/null
    frostsign group export --key group.pub --format signify --out signify.pub >/dev/null
    frostsign group export --key group.pub --format openpgp --out group.asc >/dev/null
    frostsign group export --key group.pub --format allowed-signers --principal releases@example.org \
        >allowed_signers
}

# `new_identity NAME`: NAME lost its laptop: its home is gone, it makes a new identity, card NAME-new.card.
new_identity() {
    mv "$W/people/$1/.frostsign" "$W/people/$1/lost-laptop"
    enrol "$1"
    mv "$1.card" "$1-new.card"
}

# `approve DIR GROUP SIGNER...`: these keyholders approve the new version GROUP in the session DIR.
approve() {
    local dir=$1 group=$2
    shift 2
    frostsign group approve --key "$group" --dir "$dir" >/dev/null
    for _ in 1 2 3 4; do
        for p in "$@"; do as "$p" frostsign sign step --dir "$dir" >/dev/null; done
        frostsign sign collect --dir "$dir" >/dev/null 2>&1 && return 0
    done
    echo "the approval in $dir did not complete" >&2
    return 1
}

# The 2-of-3 group, then a refresh that removed Bob, finished by Alice and Carol in remove-bob/ (its
# group.pub is version 2, not approved yet).
world_removed_bob() {
    world_group
    cd "$W/work"
    for _ in 1 2 3 4; do
        for p in alice carol; do
            as "$p" frostsign share refresh --dir remove-bob --group group.pub --remove Bob >/dev/null
        done
    done
    frostsign dkg status --dir remove-bob >/dev/null
}

# Release 1.4.0, then a rotation to a new 2-of-3 group (Alice, Bob and Dave) signed by both groups in
# rotate-2027/, and release 2.0 signed by the new group: app-2.0.tar.gz and its .minisig in the shared folder.
world_rotation() {
    world_release
    cd "$W/work"
    enrol dave
    keygen new-kg 2 alice bob dave
    frostsign group rotate --from group.pub --to new-kg/group.pub --reason "threshold 2 of 3, new members" \
        --dir rotate-2027 >/dev/null
    for side in old new; do
        for _ in 1 2 3 4; do
            for p in alice bob; do as "$p" frostsign sign step --dir "rotate-2027/$side" >/dev/null; done
            frostsign sign collect --dir "rotate-2027/$side" --out rotate-2027 >/dev/null 2>&1 && break
        done
    done
    cp rotate-2027/rotation.txt* .
    printf 'app 2.0\n' >app-2.0.tar.gz
    for p in alice bob; do cp app-2.0.tar.gz "$W/people/$p/build/"; done
    frostsign sign init --dir released-2.0 --group new-kg/group.pub --file app-2.0.tar.gz >/dev/null
    sign_session released-2.0 app-2.0.tar.gz
    cp released-2.0/app-2.0.tar.gz.minisig .
}

# Build the world named $1 (strict mode: any failing step fails the build).
build_world() {
    set -euo pipefail
    "world_${1//-/_}"
}
