# frostsign: the two set-up commands are `make demo` and `make test`.
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
BIN   := $(TARGET_DIR)/release/frostsign

.PHONY: all build test lint fmt demo bench doc clean deny sbom reproducible fuzz install page-asset page-big page-screenshots

all: build

build:
	$(CARGO) build --locked --release

# Every check CI runs: formatting, lints with warnings denied, the dependency policy, then all unit and
# end-to-end tests.
SKIPPED        := $(TARGET_DIR)/tmp/interop-skipped.txt
SUPPLY_SKIPPED := $(TARGET_DIR)/tmp/supply-skipped.txt

test: lint
	@rm -f $(SKIPPED) $(SUPPLY_SKIPPED)
	./scripts/deny.sh check
	$(CARGO) test --locked --all-targets
	$(CARGO) test --locked --doc
	@if [ -s $(SKIPPED) ]; then \
	  echo; echo "*****************************************************************************"; \
	  echo "*** WARNING: these interop checks were SKIPPED (stock tool not installed):"; \
	  sort -u $(SKIPPED) | sed 's/^/***   /'; \
	  echo "*** Install the stock tools with:"; \
	  echo "***   sudo apt-get install -y minisign signify-openbsd openssh-client gnupg git"; \
	  echo "*** and, for the browser tests of the verification page (tests/suite/page.rs):"; \
	  echo "***   sudo apt-get install -y chromium nodejs npm && npm ci --prefix web"; \
	  echo "*** (under CI=true a missing tool fails the run instead)"; \
	  echo "*****************************************************************************"; \
	fi
	@if [ -s $(SUPPLY_SKIPPED) ]; then \
	  echo; echo "*****************************************************************************"; \
	  echo "*** WARNING: the dependency policy was NOT checked (cargo-deny not installed):"; \
	  sort -u $(SUPPLY_SKIPPED) | sed 's/^/***   /'; \
	  echo "*** Install cargo-deny with:"; \
	  echo "***   cargo install --locked cargo-deny@$$(./scripts/deny.sh version)"; \
	  echo "*** (under CI=true a missing cargo-deny fails the run instead)"; \
	  echo "*****************************************************************************"; \
	fi

# The dependency policy in deny.toml, offline: licences, bans, sources (cargo-deny, pinned in scripts/deny.sh).
deny:
	./scripts/deny.sh check

# A CycloneDX (JSON) SBOM of the release build: every crate linked into the binary, with version, licence
# and the SHA-256 of its crate file (scripts/sbom.py; docs/dependencies.md says why not cargo-cyclonedx).
SBOM := $(TARGET_DIR)/sbom/frostsign.cdx.json
sbom:
	@command -v python3 >/dev/null || { echo "error: make sbom needs python3 (3.11 or newer): sudo apt-get install -y python3" >&2; exit 1; }
	python3 scripts/sbom.py --out $(SBOM)

# Build the release binary twice, in different folders and at different times, and check that both are the
# same bytes; prints both SHA-256 hashes (scripts/reproducible.sh explains every flag). Not part of `test`.
#   make reproducible REV=v1.4.0 EXPECT=<published sha256>   checks a published release binary
reproducible:
	./scripts/reproducible.sh $(if $(REV),--rev $(REV)) $(if $(EXPECT),--expect $(EXPECT))

# Coverage-guided fuzzing of every parser (fuzz/, cargo-fuzz on the nightly toolchain; fuzz/README.md).
# FUZZ_SECONDS is the TOTAL time, split evenly over the targets (default 60); FUZZ_TARGETS picks targets.
# Not part of `test`. Needs `rustup toolchain install nightly` and `cargo install --locked cargo-fuzz`.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run.sh

# The binary, completions (bash, zsh, fish) and a man page per command under PREFIX (default /usr/local);
# DESTDIR is prepended for packaging. INSTALL_BIN installs another build of the binary without building.
#   make install PREFIX=$$HOME/.local
PREFIX ?= /usr/local
install: $(if $(INSTALL_BIN),,build)
	./scripts/install.sh "$(or $(INSTALL_BIN),$(BIN))" "$(DESTDIR)$(PREFIX)"

# The verification page's built asset (web/dist/verify-page.html, embedded by `frostsign group page`):
# install the packages pinned in web/package-lock.json, then bundle web/src with esbuild. Commit the result;
# `cargo build` needs no node. tests/suite/page.rs checks that the committed asset is a fresh build.
page-asset:
	npm ci --prefix web --prefer-offline --no-audit --no-fund
	node web/build.mjs

# The page verifies a 1 GiB artifact in headless chromium with bounded memory (about a minute; not part of
# `test`, which checks 64 MiB). Prints the measured peak JS heap and renderer memory.
page-big:
	$(CARGO) test --locked --test suite page::a_1_gib_artifact_verifies_in_the_page_with_bounded_memory -- --ignored --nocapture

# The two verdict screenshots in docs/ (docs/verify.md shows them), taken by the browser test.
page-screenshots:
	FROSTSIGN_PAGE_SCREENSHOTS=$(CURDIR)/docs $(CARGO) test --locked --test suite page::the_page_verifies_minisign_sshsig_openpgp_and_signify_offline_in_chromium

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# The main job with simulated keyholders, in a fresh temporary folder.
demo: build
	./scripts/demo.sh $(BIN)

# frostsign against the stock verifiers, and ceremony costs per keyholder step (scripts/bench.sh; results
# and how to read them in docs/performance.md). Not part of `test`.
#   make bench BENCH_MB=1024 BENCH_RUNS=5 BENCH_LARGE=1   (BENCH_LARGE=1 adds the 67-of-100 ceremony)
bench: build
	$(CARGO) build --locked --release --example frost_alone --example crypto_floor
	./scripts/bench.sh $(BIN)

doc:
	$(CARGO) doc --locked --no-deps

clean:
	$(CARGO) clean
