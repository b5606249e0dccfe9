# The two commands of the README are `make run` and `make test`.
CARGO ?= cargo

.PHONY: run test lint bench crash-test failover-test fuzz mutants deps php-lint php-test php-floor dist dist-check rules-test deb package-test

PHPUNIT = phpunit -c php-shim/tests/phpunit.xml

## Run the service on its embedded default: SQLite in ./data, WhatsApp in
## dry-run, a dev hook secret and admin token kept in ./data.
run:
	$(CARGO) run --release --bin puente -- serve --dev

## Install what the tests need (idempotent), lint, check the addon's zip,
## then run every test: Rust (unit, integration, the PHP addon end to end),
## PHPUnit and the Prometheus rules' unit tests. The integration suite runs
## twice: on SQLite, then on a private PostgreSQL (scripts/with-postgres.sh;
## a server that cannot start fails the run).
test: deps lint dist-check
	$(CARGO) test
	PUENTE_TEST_BACKEND=postgres ./scripts/with-postgres.sh $(CARGO) test --test api
	$(MAKE) --no-print-directory php-test
	$(MAKE) --no-print-directory rules-test

## The alerting rules (contrib/prometheus/): promtool checks their syntax
## and runs their unit tests (each alert firing and not firing), and each
## alert's runbook_url must lead to its section of docs/RUNBOOK.md; then the
## Grafana dashboard's queries are checked as PromQL by promtool, and the
## script that lists the metrics both read runs its self-test.
rules-test:
	promtool check rules contrib/prometheus/puente.rules.yml
	promtool test rules contrib/prometheus/tests/*.yml
	python3 scripts/runbook-links.py
	python3 scripts/dashboard-metrics.py --self-test
	@queries=$$(mktemp --suffix=.yml) && trap 'rm -f "$$queries"' EXIT && \
	python3 scripts/dashboard-metrics.py --dashboard-rules > "$$queries" && \
	promtool check rules "$$queries" >/dev/null && \
	echo "contrib/grafana/puente.json: every query is valid PromQL"

## The addon as the zip an administrator uploads and unzips in the WHMCS
## root: dist/puente-whmcs-addon-<version>.zip (modules/addons/puente/ at
## its root, the version from Cargo.toml) and dist/SHA256SUMS. The same
## sources give the same bytes (times from SOURCE_DATE_EPOCH, else the last
## commit).
dist:
	python3 scripts/dist.py --out dist

## Build the zip twice, the second time from a copy with other file times,
## modes and order, and check the two are byte-identical and hold the addon
## only (under modules/addons/puente/, whmcs.json and its logo, no tests).
dist-check:
	python3 scripts/dist.py --check

## The addon's PHPUnit tests: once without WHMCS's database (file spool),
## once with a Capsule over SQLite (the "capsule" group); then its PHP floor
## on real PHP 7.2 and 8.1 interpreters.
php-test: php-floor
	$(PHPUNIT) --exclude-group capsule
	PUENTE_TEST_CAPSULE=1 $(PHPUNIT) --group capsule

## The addon on PHP 8.1 (its floor, WHMCS 8.6+) and its entry files on PHP
## 7.2 (WHMCS 8.0's), which must refuse activation instead of failing.
php-floor:
	node php-shim/tests/floor/check.mjs

## Format check, clippy with warnings as errors, no import cycle between
## any two modules of src/, and `php -l` on the addon.
lint: php-lint
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	python3 scripts/module-cycles.py

php-lint:
	@find php-shim -name '*.php' -print0 | xargs -0 -n1 php -l >/dev/null && echo "php -l: no syntax errors"

## Throughput and latency figures; not part of `make test`: the service's
## ingest (SQLite, then PostgreSQL with one and two replicas on a private
## server), hook -> WhatsApp request latency, the time the addon adds to a hook.
bench:
	./scripts/with-postgres.sh --durable $(CARGO) bench --bench ingest
	$(CARGO) bench --bench alerts
	./scripts/bench-shim.sh

## Kill -9 the service under load, restart it, and prove nothing
## acknowledged was lost and nothing was sent or changed twice; not part of
## `make test`.
crash-test:
	$(CARGO) bench --bench crash

## Two replicas on a private PostgreSQL (durable settings), each killed with
## SIGKILL at random moments and PostgreSQL restarted once, under the crash
## test's load; proves nothing acknowledged was lost, nothing was sent or
## changed twice, a killed replica's work resumed within 45 s and one leader
## at a time. Not part of `make test`.
failover-test:
	./scripts/with-postgres.sh --durable $(CARGO) bench --bench failover

## Fuzz every parser of outside input for FUZZ_SECONDS each (600 by
## default; not part of `make test`, which replays the kept corpus).
fuzz:
	./scripts/fuzz.sh

## Mutation testing of the rules: every mutant of src/domain/, judged by
## the unit tests alone (.cargo/mutants.toml); not part of `make test`.
## The report is in target/mutants/mutants.out/ (missed.txt, caught.txt).
mutants:
	@command -v cargo-mutants >/dev/null || $(CARGO) install --locked cargo-mutants
	$(CARGO) mutants --output target/mutants

## The Debian package in target/debian/ (cargo-deb, installed if missing;
## Cargo.toml's [package.metadata.deb] and packaging/debian/), checked by
## lintian (no error or warning) and systemd-analyze verify and security.
deb:
	CARGO=$(CARGO) ./scripts/deb.sh

## Install the package into a clean Debian 12 root (debootstrap, cached in
## target/package-test/), boot it under systemd-nspawn (else a chroot), and
## check the user, the files, the unit, /readyz, an upgrade, remove and purge.
## Needs root; not part of `make test`.
package-test: deb
	./scripts/package-test.sh

deps:
	./scripts/install-test-deps.sh
