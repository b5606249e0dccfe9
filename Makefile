# The two commands of the README are `make run` and `make test`.
CARGO ?= cargo

.PHONY: run test lint bench deps

## Run the service on its embedded default: SQLite in ./data, WhatsApp in
## dry-run, a dev hook secret and admin token kept in ./data.
run:
	$(CARGO) run --release --bin puente -- serve --dev

## Install what the tests need (idempotent), lint, then run every test.
test: deps lint
	$(CARGO) test

## Format check and clippy with warnings as errors.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## Throughput and latency figures; not part of `make test`.
bench:
	$(CARGO) bench --bench ingest

deps:
	./scripts/install-test-deps.sh
