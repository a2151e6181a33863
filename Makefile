# dpcore: the two commands a newcomer needs are `make demo` and `make test`.
# Both set everything up first (scripts/setup.sh is idempotent).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
REL := $(ROOT)/target/release
ENV := source $(ROOT)/scripts/env.sh

PREFIX ?= /usr/local

.PHONY: install all setup build header check-header demo test test-rust test-c test-python \
        lint fmt check-deps test-cli test-install test-abi test-fortran abi-baseline examples bench clean

all: build

setup:
	bash scripts/setup.sh

# Build the core, the SYCL plugin, dpcore-info and the Python extension
# (python/dpcore/_dpcore*.so, in place) with CMakeLists.txt: the build
# `pip install .` runs too. cargo builds into target/ (the whole workspace,
# the test plugin included); the core gets its SONAME link there.
BUILD_DIR ?= $(ROOT)/build
build: setup
	mkdir -p $(BUILD_DIR) && $(ENV) && cmake -S $(ROOT) -B $(BUILD_DIR) -DPython_EXECUTABLE=$$DPCORE_VENV/bin/python \
	  >$(BUILD_DIR)/configure.log 2>&1 || { cat $(BUILD_DIR)/configure.log; exit 1; }
	$(ENV) && cmake --build $(BUILD_DIR)

# Regenerate include/dpcore.h with the pinned cbindgen.
header: setup
	cbindgen -q --config cbindgen.toml --crate dpcore --output include/dpcore.h
	$(ENV) && python scripts/gen-pxd.py
	$(ENV) && python scripts/gen-fortran.py

# Fail when the checked-in header differs from what cbindgen generates now.
check-header: setup
	cbindgen -q --config cbindgen.toml --crate dpcore --output $(ROOT)/target/dpcore.h.generated
	@if ! diff -u include/dpcore.h $(ROOT)/target/dpcore.h.generated; then \
	  echo "include/dpcore.h is out of date: run 'make header' and commit it" >&2; exit 1; fi
	@echo "include/dpcore.h is up to date"
	$(ENV) && python scripts/gen-pxd.py --check
	$(ENV) && python scripts/gen-fortran.py --check

lint: setup
	cargo fmt --all --check
	$(ENV) && cargo clippy --workspace --all-targets -- -D warnings
	python3 tests/layering.py

fmt:
	cargo fmt --all

# The core must not depend on a SYCL, OpenCL, Level Zero or C++ runtime.
check-deps: build
	bash tests/check-deps.sh $(REL)/libdpcore.so

examples: build
	bash scripts/run-c.sh --examples-only

# The main job: list the devices and run the examples on the default device.
demo: build
	$(ENV) && dpcore-info
	$(ENV) && bash scripts/run-c.sh --examples-only --run
	$(ENV) && bash examples-fortran/build.sh --run
	$(ENV) && bash examples-pybind11/onemkl_gemv/build.sh && cd examples-pybind11/onemkl_gemv && python -c \
	  'import dpnp, onemkl_gemv; A = dpnp.ones((4, 3), dtype="f4"); x = dpnp.arange(3, dtype="f4"); \
	   print("onemkl_gemv (pybind11 + oneMKL):", dpnp.asnumpy(dpnp.from_dlpack(onemkl_gemv.matmul(A, x))))'

test-rust: build
	$(ENV) && DPCORE_SYCL_PLUGIN=$(REL)/libdpcore_sycl.so cargo test --release --workspace

test-c: build
	$(ENV) && bash scripts/run-c.sh --run --asan

# ThreadSanitizer: the core (std included) built with -Zsanitizer=thread
# into target/tsan, tests/c/stress_threads.c run against it and the real
# SYCL plugin; any report fails.
.PHONY: test-tsan
test-tsan: build
	bash scripts/tsan.sh

# The pytest suite under the leak census: it must end holding nothing.
test-python: build
	$(ENV) && bash scripts/with-census.sh python -m pytest -q tests/python

test-cli: build
	$(ENV) && bash tests/cli.sh

# The Fortran module (drift, layout and ABI checks against the header) and
# the saxpy example, with gfortran.
test-fortran: build
	$(ENV) && bash tests/fortran/test_fortran.sh

# The committed SPIR-V (kernels/*.spv, kernels/lib/copy_cast.pack) is its
# source compiled: rebuilt into a temporary directory, any difference fails.
.PHONY: test-kernels
test-kernels: setup
	bash tests/kernels.sh

# scripts/setup.sh's venv logic (venv support, the interpreter stamp) on
# temporary venvs with a fake python3; this machine's .venv is not touched.
.PHONY: test-setup
test-setup:
	bash tests/setup_venv.sh

# The wheel (pip wheel .) on two Pythons, each installed into a fresh venv
# and tested there with a clean environment, with the standalone
# examples-pybind11/onemkl_gemv project built against it (tests/wheel.sh).
.PHONY: test-wheel
test-wheel: build
	$(ENV) && bash tests/wheel.sh

# make install into a temporary prefix; pkg-config and CMake builds against it.
test-install: build
	$(ENV) && bash tests/install.sh

# Exported symbols = the header's functions; abidiff against abi/libdpcore.abi.
test-abi: build
	$(ENV) && bash tests/abi.sh

# Rewrite the ABI baseline (after a compatible addition; commit it with it).
abi-baseline: setup
	python3 scripts/abi.py update

# The core's unit tests under Miri (undefined behaviour, data races, leaks):
# the parts that need no device (handle table, selector grammar, SPIR-V
# reader, DLPack structs on host arrays, shape/stride arithmetic, the error
# boundary). Tests that call dlopen or read files are marked ignored under
# Miri, each with its reason. Addresses are integers in the core (USM
# pointers are the device's), hence permissive provenance.
.PHONY: test-miri
test-miri: setup
	$(ENV) && MIRIFLAGS=-Zmiri-permissive-provenance cargo +$$DPCORE_NIGHTLY miri test -p dpcore --lib

test: setup lint check-header build check-deps test-abi test-rust test-c test-tsan test-python test-fortran test-cli test-install
test: test-kernels test-miri test-fuzz-smoke test-wheel
test: test-setup
	@echo "make test: all checks passed"

# The API-sequence fuzzer (fuzz/, cargo-fuzz with the pinned nightly):
# `make fuzz` fuzzes for FUZZ_SECONDS (default 600) from the committed corpus,
# writing new inputs to fuzz/corpus-run/ and findings to fuzz/artifacts/;
# `make test-fuzz-smoke` (part of make test) replays the corpus and fuzzes
# for FUZZ_SMOKE_SECONDS (default 60).
FUZZ_SECONDS ?= 600
.PHONY: fuzz test-fuzz-smoke
fuzz: build
	$(ENV) && FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh run

test-fuzz-smoke: build
	$(ENV) && bash scripts/fuzz.sh smoke

# Long runs of the trust tests (not part of make test, which runs short
# ones): 100,000 create/release pairs per way of making an array, with the
# leak census at zero and RSS printed; 200 interpreter exits per snippet of
# pending work; the stale-data trials.
.PHONY: soak
soak: build
	$(ENV) && bash scripts/run-c.sh >/dev/null
	$(ENV) && DPCORE_TEST_PAIRS=100000 bash scripts/with-census.sh target/c/test_trust.plain
	$(ENV) && DPCORE_TEST_EXIT_RUNS=200 python -m pytest -q tests/python/test_trust.py

# Install libraries, headers, tools, pkg-config and CMake files, and the
# Python package, under PREFIX (CMakeLists.txt's prefix layout; DESTDIR is
# honoured for staging).
install: build
	$(ENV) && cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# Benchmarks against the peer (not part of the tests).
bench: build
	bash benches/run.sh

clean:
	cargo clean
