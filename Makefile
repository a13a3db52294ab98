# kubectl-seldon-tracing: the two commands the README promises, plus helpers.
SHELL := bash
CARGO ?= cargo
PREFIX ?= $(HOME)/.local

.PHONY: demo test build install tools bench dist fuzz soak

## make demo: the main job on a throwaway local control plane (list, status, enable, status, disable)
demo:
	scripts/demo

## make test: starts three local control planes (atomic env lists, map env lists, no CRD), runs every test, stops them
test:
	scripts/run-tests

build:
	$(CARGO) build --release --locked

tools:
	scripts/testcluster build

## make install: the binary under the name kubectl's plugin discovery looks for
install: build
	install -d $(PREFIX)/bin
	install -m 0755 target/release/kubectl-seldon-tracing $(PREFIX)/bin/kubectl-seldon_tracing
	install -m 0755 kubectl_complete-seldon_tracing $(PREFIX)/bin/kubectl_complete-seldon_tracing
	@echo "installed $(PREFIX)/bin/kubectl-seldon_tracing; make sure $(PREFIX)/bin is on PATH"

## make bench: plugin vs kubectl vs raw HTTP on a local control plane; writes docs/benchmarks.md
bench:
	scripts/bench

## make dist: release archive for this platform and the krew manifest dist/seldon-tracing.yaml
dist:
	scripts/dist

## make fuzz: each cargo-fuzz target for FUZZ_SECONDS (default 600) on nightly; prints runs and runs/s
fuzz:
	scripts/fuzz

## make soak: 5000 objects, 3 enable/sampler/disable cycles under throttling with a background writer
soak:
	scripts/soak
