# loadrun's make targets. `make run` and `make test` are the two commands a
# new user needs; the servers the tests use are installed and started by the
# tests and by the scripts under scripts/ when they are missing.

CARGO ?= cargo
SCENARIO ?= scenarios/extreme.toml

.PHONY: build release run test lint fmt bench clean fuzz

build:
	$(CARGO) build --release

release: build

run: build
	./target/release/loadrun $(SCENARIO)

test:
	scripts/test-deps.sh
	$(CARGO) test --release -- --test-threads=1

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

bench: build
	scripts/bench.sh

clean:
	$(CARGO) clean

# backend-specific targets (servers, peers, benchmarks)
-include mk/*.mk

# feeds arbitrary bytes through the scenario parser for FUZZ_SECONDS
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)
