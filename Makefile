# anchor-webhooks: every task of the project. `make help` lists them.
#
# Two commands matter on a fresh machine:  `make demo`  (the main job)  and  `make test`  (everything CI runs).

SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

.PHONY: demo
demo: ## The main job: build the CLI and walk through signing and verifying deliveries
	@scripts/demo.sh

.PHONY: build
build: ## Build every crate (debug)
	$(CARGO) build --workspace --locked

.PHONY: test
test: lint test-rust check-generated ## Everything CI runs: lint, every test suite, generated-file drift
	@echo "make test: all checks passed"

.PHONY: lint
lint: ## rustfmt --check and clippy -D warnings on every target
	scripts/ensure-rust-tools.sh
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

.PHONY: test-rust
test-rust: ## Rust unit, vector, property, dedupe and CLI tests (plus doc tests)
	$(CARGO) test --workspace --locked

.PHONY: check-generated
check-generated: ## Fail if a generated file (test vectors) differs from what its generator writes
	python3 tests/vectors/generate.py --check

.PHONY: regen
regen: ## Regenerate generated files (test vectors)
	python3 tests/vectors/generate.py

.PHONY: bench
bench: ## Criterion benchmarks of the core; writes core/benches/RESULTS.md
	$(CARGO) bench -p anchor-webhooks --bench verify

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZ_SECONDS (default 60) each; needs the nightly toolchain
	scripts/fuzz.sh
