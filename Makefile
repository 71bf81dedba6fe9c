# bitweave — `make demo` runs the main job, `make test` the test suite.
SHELL := /bin/bash
NPX := npx --no-install

.PHONY: setup build test test-long demo clean

setup:
	@./scripts/setup.sh

build: setup
	@$(NPX) tsc -p tsconfig.json

test: build
	@$(NPX) mocha

# slow suites (full-dataset runs); not part of `make test`
test-long: build
	@BITWEAVE_LONG=1 $(NPX) mocha

demo: build
	@./scripts/demo.sh

clean:
	rm -rf dist build
