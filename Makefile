# frostsign: the two set-up commands are `make demo` and `make test`.
CARGO ?= cargo
BIN   := target/release/frostsign

.PHONY: all build test lint fmt demo bench doc clean

all: build

build:
	$(CARGO) build --locked --release

# Every check CI runs: formatting, lints with warnings denied, then all unit and end-to-end tests.
test: lint
	$(CARGO) test --locked --all-targets
	$(CARGO) test --locked --doc

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# The main job with simulated keyholders, in a fresh temporary folder.
demo: build
	./scripts/demo.sh $(BIN)

bench: build
	./scripts/bench.sh $(BIN)

doc:
	$(CARGO) doc --locked --no-deps

clean:
	$(CARGO) clean
