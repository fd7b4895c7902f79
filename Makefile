# deconv: developer targets. On Debian 12, `make demo` and `make test` do everything
# from a fresh machine (as root, or as a user with sudo for the system packages).
#
#   make deps     install missing Debian packages (R, RcppEigen, testthat, callr, ...);
#                 `make demo` installs only the smaller list it needs (DEB_DEMO)
#   make install  build and install the package (R CMD INSTALL; runs ./configure, which
#                 adds GPU support when it finds CUDA and cuDNN; DECONV_CUDA=0 turns it off)
#   make demo     upsample the R logo 2x and 4x into $(DEMO_DIR)
#   make test     the include check, R tests + C++ (GoogleTest) tests, of the CUDA and the
#                 CPU-only builds when CUDA is found; last line "N passed, N failed,
#                 N skipped". Incremental: only what changed is rebuilt
#   make check    R CMD build + R CMD check --as-cran --no-manual
#   make sanitize the C++ (GoogleTest) suites built with ASan + UBSan in
#                 $(BUILD)/gtest-sanitize and run by ctest; fails on any test failure or
#                 sanitizer report (the kernel suites on the BLAS GEMM; SANITIZE_ALL=1: on
#                 every GEMM backend, about twice as long)
#   make fuzz     the libFuzzer targets of tests/fuzz built with clang (ASan + UBSan) in
#                 $(BUILD)/fuzz, each run for a fixed count: fuzz_params 1,000,000 runs,
#                 fuzz_attrs 1,000,000, fuzz_kernel 100,000 (FUZZ_*_RUNS, FUZZ_MAX_TIME,
#                 FUZZ_SEED: see tests/fuzz/run_fuzz.sh), then the R symbol JSON reader
#                 with 80,000 mutated files (tools/fuzz_json.R; FUZZ_JSON_RUNS); fails
#                 on any finding
#   make valgrind an R workload (tools/valgrind_workload.R) under valgrind's memcheck:
#                 fails on any error or definitely lost block
#   make bench    run inst/bench/bench.R (the CPU benchmark) against the peers (PyTorch 2,
#                 ONNX Runtime, OpenVINO) of a venv made by `make bench-peers`
#                 (BENCH_VENV, default $(BUILD)/bench-venv; BENCH_ARGS: bench.R's options)
#   make bench-peers  create or complete that venv (inst/bench/setup_peers.sh)
#   make bench-gpu  run inst/bench/bench_gpu.R (needs a CUDA build and a GPU)
#   make gpu-check  tools/gpu_check.sh: the C++ GPU suite and benchmark of the core built
#                 with CUDA, no R needed, summary in $(BUILD)/gpu-check-out/summary.md
#                 (GPU_CHECK_SCALE scales the random cases; see docs/gpu-check.md)
#   make clean    remove build outputs ($(BUILD), objects and .d files, src/Makevars)
#
# Variables: DOCS=1 regenerates man/ and NAMESPACE with roxygen2 before installing
# (the committed ones are the source of truth); VERBOSE=1 shows the compiler output
# (otherwise it goes to build/install.log); JOBS sets compile parallelism.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
MAKEFLAGS += --no-builtin-rules --no-print-directory
# Targets chain through `install`; running them in parallel would race the install.
.NOTPARALLEL:
.DELETE_ON_ERROR:

JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
BUILD    ?= build
DEMO_DIR ?= $(BUILD)/demo
DOCS     ?= 0
VERBOSE  ?= 0
RSCRIPT  ?= Rscript
# src/Makevars tracks header dependencies (.d files) and its own settings, so a plain
# R CMD INSTALL rebuilds only what changed; INSTALL_FLAGS=--preclean rebuilds everything.
INSTALL_FLAGS ?=

export DEBIAN_FRONTEND := noninteractive

# Debian packages. `make demo` needs only DEB_DEMO: R, what the package builds and loads
# with, png for the demo's image, and an optimized BLAS. `make test` adds the test
# dependencies (future & co. for the batch tests, knitr/rmarkdown/pandoc to render the
# vignettes) and the C++ test toolchain.
DEB_DEMO  := r-base-dev r-cran-rcppeigen r-cran-jsonlite r-cran-png libopenblas0-pthread
DEB_R     := $(DEB_DEMO) r-cran-callr r-cran-testthat r-cran-withr r-cran-roxygen2 \
             r-cran-jpeg r-cran-future r-cran-future.apply r-cran-parallelly r-cran-progressr \
             r-cran-knitr r-cran-rmarkdown pandoc
DEB_CXX   := cmake g++ make libgtest-dev libeigen3-dev libopenblas-dev
DEB_CHECK := r-cran-knitr r-cran-rmarkdown pandoc qpdf devscripts
# `make fuzz`: clang with libFuzzer and the sanitizer runtimes, and its OpenMP.
DEB_FUZZ  := clang libclang-rt-14-dev libomp-dev

PKG     := $(shell sed -n 's/^Package: *//p' DESCRIPTION)
VERSION := $(shell sed -n 's/^Version: *//p' DESCRIPTION)
TARBALL := $(PKG)_$(VERSION).tar.gz

.PHONY: all deps deps-demo deps-check install install-demo docs demo test sanitize fuzz valgrind check bench bench-peers bench-gpu clean

all: install

# Installs only what `dpkg -s` reports missing; quick and silent when all is present.
# Without dpkg/apt-get (not Debian) it only says so: install the dependencies yourself.
define apt_install
	if ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null; then \
	  echo "deps: not a Debian system; skipping (install the dependencies yourself, see README.md)"; \
	  exit 0; \
	fi; \
	missing=""; \
	for p in $(1); do \
	  dpkg -s "$$p" 2>/dev/null | grep '^Status: install ok installed' >/dev/null || \
	    missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; \
	  if [ "$$(id -u)" != 0 ]; then \
	    command -v sudo >/dev/null || { echo "deps: run as root or install sudo"; exit 1; }; \
	    sudo="sudo"; \
	  fi; \
	  echo "deps: installing$$missing"; \
	  $$sudo apt-get update -qq; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 \
	    --no-install-recommends$$missing </dev/null; \
	fi
endef

deps:
	@$(call apt_install,$(DEB_R) $(DEB_CXX))

deps-demo:
	@$(call apt_install,$(DEB_DEMO))

deps-check:
	@$(call apt_install,$(DEB_R) $(DEB_CXX) $(DEB_CHECK))

docs:
	@if [ "$(DOCS)" = 1 ]; then \
	  if $(RSCRIPT) -e 'quit(status = !requireNamespace("roxygen2", quietly = TRUE))'; then \
	    echo "docs: regenerating man/ and NAMESPACE with roxygen2"; \
	    $(RSCRIPT) -e 'roxygen2::roxygenise()'; \
	  else echo "docs: roxygen2 is not installed; keeping the committed man/ and NAMESPACE"; fi; \
	fi

# Installs into the first library R uses (the site library when run as root). When that
# is not writable, R's per-user library is created so R CMD INSTALL picks it up.
define install_package
	@lib=$$($(RSCRIPT) -e 'cat(.libPaths()[1])'); \
	if [ ! -w "$$lib" ]; then \
	  $(RSCRIPT) -e 'd <- Sys.getenv("R_LIBS_USER"); dir.create(d, recursive = TRUE, showWarnings = FALSE); cat(d)' >/dev/null; \
	fi
	@mkdir -p $(BUILD); echo "R CMD INSTALL $(strip $(INSTALL_FLAGS) .) (log: $(BUILD)/install.log)"
	@if [ "$(VERBOSE)" = 1 ]; then \
	  MAKEFLAGS=-j$(JOBS) R CMD INSTALL $(INSTALL_FLAGS) . 2>&1 | tee $(BUILD)/install.log; \
	elif MAKEFLAGS=-j$(JOBS) R CMD INSTALL $(INSTALL_FLAGS) . >$(BUILD)/install.log 2>&1; then \
	  grep -E '^deconv: GPU support' $(BUILD)/install.log || true; \
	  grep -E '^\* (installing to|DONE)' $(BUILD)/install.log; \
	  echo "  $$(grep -c 'warning:' $(BUILD)/install.log || true) compiler warning(s), $$(grep 'warning:' $(BUILD)/install.log | grep -vc '/RcppEigen/include/' || true) outside RcppEigen's headers"; \
	else \
	  tail -n 80 $(BUILD)/install.log; echo "install: R CMD INSTALL failed (full log: $(BUILD)/install.log)"; exit 1; \
	fi
endef

install: deps docs
	$(install_package)

# The demo's install: the same, after installing only the demo's Debian packages.
install-demo: deps-demo docs
	$(install_package)

demo: install-demo
	$(RSCRIPT) inst/examples/upsample.R $(DEMO_DIR)

# tools/run_tests.sh prints "N passed, N failed, N skipped" last and fails if any failed.
# It gets a clean environment for CMake's make (no MAKEFLAGS from this make).
test: install
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL BUILD_DIR=$(BUILD) JOBS=$(JOBS) tools/run_tests.sh

# CMake and ctest get a clean environment (no MAKEFLAGS from this make), as in `test`.
CLEAN_ENV := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL
# Sanitizer reports are fatal (UBSan is built with -fno-sanitize-recover), leaks included;
# idle OpenMP threads sleep rather than spin, which matters when tests share 2 cores;
# the interrupt tests' poll-gap limit is widened 3x for the slower instrumented code
# (a 2-thread forward under ASan once polled after 0.155 s against 0.15 s).
SAN_ENV := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
           OMP_WAIT_POLICY=passive DECONV_TIMING_SLACK=3
SANITIZE_DIR ?= $(BUILD)/gtest-sanitize
SANITIZE_ALL ?= 0
# By default the kernel suites run on one GEMM backend (blas_gemm.*), and test_gemm
# checks every backend's GEMM directly; the other backends' registrations (eigen_gemm.*,
# avx512_gemm.*) would double the time under ASan.
# The interrupt tests' one-big-chunk layers are timing tests sized for optimized code:
# under ASan at -O1 each takes minutes, so they run only in the normal build (the
# phase path's interrupt test is sized the same way).
SANITIZE_EXCLUDE := -E '^($(if $(filter 1,$(SANITIZE_ALL)),,(eigen|avx512)_gemm\.|)Interrupts\.(OneBigChunk|PhasePath))'

FUZZ_DIR ?= $(BUILD)/fuzz
FUZZ_TARGETS := fuzz_params fuzz_attrs fuzz_kernel

sanitize:
	@$(call apt_install,$(DEB_CXX))
	@start=$$SECONDS; log=$(SANITIZE_DIR)/ctest.log; \
	$(CLEAN_ENV) cmake -S tests/gtest -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=Release \
	  -DDECONV_WITH_CUDA=OFF -DDECONV_SANITIZE=ON >/dev/null; \
	$(CLEAN_ENV) cmake --build $(SANITIZE_DIR) -j$(JOBS); \
	echo "sanitize: built in $$((SECONDS - start)) s; running ctest (log: $$log)"; \
	rc=0; $(CLEAN_ENV) $(SAN_ENV) ctest --test-dir $(SANITIZE_DIR) -j$(JOBS) \
	  --output-on-failure $(SANITIZE_EXCLUDE) > $$log 2>&1 || rc=$$?; \
	tail -n 12 $$log; \
	reports=$$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	  $(SANITIZE_DIR)/Testing/Temporary/LastTest.log || true); \
	echo "sanitize: $$reports sanitizer report(s), ctest status $$rc, $$((SECONDS - start)) s in all"; \
	[ "$$rc" = 0 ] && [ "$$reports" = 0 ]

fuzz: install
	@$(call apt_install,$(DEB_CXX) $(DEB_FUZZ))
	@start=$$SECONDS; \
	$(CLEAN_ENV) cmake -S tests/gtest -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Release \
	  -DDECONV_WITH_CUDA=OFF -DDECONV_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ >/dev/null; \
	$(CLEAN_ENV) cmake --build $(FUZZ_DIR) -j$(JOBS) --target $(FUZZ_TARGETS); \
	echo "fuzz: built in $$((SECONDS - start)) s"; \
	rc=0; tests/fuzz/run_fuzz.sh $(FUZZ_DIR) || rc=$$?; \
	$(RSCRIPT) tools/fuzz_json.R $(FUZZ_JSON_RUNS) 1 || rc=1; \
	echo "fuzz: $$((SECONDS - start)) s in all"; \
	exit $$rc

FUZZ_JSON_RUNS ?= 80000
VALGRIND_LOG ?= $(BUILD)/valgrind.log
valgrind: install
	@$(call apt_install,valgrind)
	@R -d "valgrind --leak-check=full --error-exitcode=0" --vanilla \
	  -f tools/valgrind_workload.R > $(VALGRIND_LOG) 2>&1 || true; \
	grep -E 'ERROR SUMMARY|definitely lost' $(VALGRIND_LOG); \
	grep -q 'ERROR SUMMARY: 0 errors' $(VALGRIND_LOG) && \
	  ! grep -E 'definitely lost: [1-9]' $(VALGRIND_LOG) >/dev/null

# The vignette needs knitr, rmarkdown and pandoc to build; --as-cran needs qpdf and
# checkbashisms (devscripts). The CRAN incoming checks run without their remote part;
# offline, the file timestamp check still gives a NOTE ("unable to verify current time").
CHECK_ENV := _R_CHECK_CRAN_INCOMING_REMOTE_=false
check: deps-check docs
	rm -rf $(BUILD)/check && mkdir -p $(BUILD)/check
	cd $(BUILD)/check && R CMD build ../..
	cd $(BUILD)/check && $(CHECK_ENV) MAKEFLAGS=-j$(JOBS) \
	  R CMD check --as-cran --no-manual $(TARBALL)

# The peers' venv of `make bench`; BENCH_ARGS passes bench.R's options (--quick, --layers=...).
BENCH_VENV ?= $(BUILD)/bench-venv
BENCH_ARGS ?=

bench-peers:
	inst/bench/setup_peers.sh $(BENCH_VENV)

bench: install bench-peers
	DECONV_BENCH_VENV=$(abspath $(BENCH_VENV)) $(RSCRIPT) inst/bench/bench.R $(BENCH_ARGS)

bench-gpu: install
	$(RSCRIPT) inst/bench/bench_gpu.R

# The same check a bare GPU machine runs (docs/gpu-check.md), here: prepares the carry
# (GoogleTest, Eigen), then builds and runs; GPU steps are marked "not run" without a GPU.
GPU_CHECK_SCALE ?= 1
GPU_CHECK_OUT   ?= $(BUILD)/gpu-check-out
.PHONY: gpu-check
gpu-check:
	@tools/gpu_check_prepare.sh
	@rm -rf $(GPU_CHECK_OUT)
	@$(CLEAN_ENV) JOBS=$(JOBS) tools/gpu_check.sh $(GPU_CHECK_OUT) $(GPU_CHECK_SCALE)
	@sed -n '3,8p' $(GPU_CHECK_OUT)/summary.md; echo "summary: $(GPU_CHECK_OUT)/summary.md"

clean:
	rm -rf $(BUILD) $(PKG).Rcheck $(PKG)_*.tar.gz
	./cleanup
