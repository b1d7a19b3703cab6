# Thin wrapper over CMake presets. Both goals first install missing Debian packages.
PRESET ?= default
BUILD_DIR := build
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test run bench reproduce clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j $(JOBS)

run: build
	@scripts/run.sh $(BUILD_DIR)

# Every paper figure on local workers (about 15 minutes on two cores): docs/reproduction.md.
reproduce: build
	@$(BUILD_DIR)/app/edgent reproduce all --out $(BUILD_DIR)/reproduce

bench: build
	@$(BUILD_DIR)/bench/edgent-bench-slices

clean:
	@rm -rf $(BUILD_DIR)
