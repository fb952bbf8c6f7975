# bgpcomm — the commands of README.md. Everything a target needs is installed by `make deps`.
SHELL := /bin/bash
BUILD_DIR ?= build
FUZZ_BUILD_DIR ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
FUZZ_CXX ?= clang++-16
CTEST_ARGS ?=
# ccache (make deps installs it) keeps rebuilds of unchanged files cheap, across clones:
# its cache lives with the other slow-to-build things, paths are taken relative to the
# clone, and the build directory is not part of the key.
CMAKE_LAUNCHER := $(if $(shell command -v ccache 2>/dev/null),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_DIR ?= $(or $(BGPCOMM_CACHE),/var/cache/bgpcomm)/ccache
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps build test unit fuzz-build fuzz demo down image e2e-kind bench clean format

all: build

deps:
	@scripts/deps.sh

# Compiler output goes to build logs (scripts/step.sh); VERBOSE=1 shows it as it happens.
$(BUILD_DIR)/CMakeCache.txt:
	@scripts/step.sh configure $(BUILD_DIR)/logs/configure.log \
	  cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_LAUNCHER)

build: deps $(BUILD_DIR)/CMakeCache.txt
	@scripts/step.sh build $(BUILD_DIR)/logs/build.log cmake --build $(BUILD_DIR) -j $(JOBS)

# libFuzzer targets, built with clang (g++ has no -fsanitize=fuzzer). Without clang 16
# this fails: the fuzz tests are part of `make test` and never skipped.
fuzz-build: deps
	@command -v $(FUZZ_CXX) >/dev/null || \
	  { echo "fuzz-build: $(FUZZ_CXX) not found (make deps installs clang-16)" >&2; exit 1; }
	@[ -f $(FUZZ_BUILD_DIR)/CMakeCache.txt ] || \
	  scripts/step.sh fuzz-configure $(FUZZ_BUILD_DIR)/logs/configure.log \
	  cmake -S . -B $(FUZZ_BUILD_DIR) -DBGPCOMM_FUZZ=ON -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_LAUNCHER)
	@scripts/step.sh fuzz-build $(FUZZ_BUILD_DIR)/logs/build.log \
	  cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target fuzz_targets

# Unit, fuzz (bounded by FUZZ_SECONDS each) and end-to-end tests; ends with ctest's summary.
test: build fuzz-build
	cd $(BUILD_DIR) && BGPCOMM_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

# Run every fuzz target for FUZZ_SECONDS each, JOBS at a time (e.g. make fuzz
# FUZZ_SECONDS=600), and keep the inputs that reached new coverage in unit/fuzz/corpus/.
fuzz: build fuzz-build
	cd $(BUILD_DIR) && BGPCOMM_FUZZ_SECONDS=$(FUZZ_SECONDS) BGPCOMM_FUZZ_MERGE=1 \
	  ctest --output-on-failure -j $(JOBS) -L fuzz --timeout $$(( $(FUZZ_SECONDS) + 300 ))

demo: build
	@scripts/demo.sh

down:
	@if [ -x e2e/cluster/down.sh ]; then e2e/cluster/down.sh; else echo "down: nothing is running"; fi

# Build the image from the Dockerfile and check it (non-root, both daemons, --help),
# starting a private dockerd when none runs (e2e/image/). IMAGE=name:tag to choose the tag.
image: deps
	@e2e/image/build.sh

# The end-to-end suites on a kind cluster made here (e2e/kind/README.md): up, every suite
# with the kind provider, the kind-only suites, down. Part of `make test` (label kind).
e2e-kind: build
	@BGPCOMM_BIN_DIR=$(abspath $(BUILD_DIR))/bin e2e/kind/run.sh

bench: build
	@bench/run.sh

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_BUILD_DIR)
