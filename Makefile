# deconv: developer targets. On Debian 12, `make demo` and `make test` do everything
# from a fresh machine (as root, or as a user with sudo for the system packages).
#
#   make deps     install missing Debian packages (R, Rcpp, RcppEigen, testthat, ...)
#   make install  build and install the package (R CMD INSTALL; runs ./configure, which
#                 adds GPU support when it finds CUDA and cuDNN; DECONV_CUDA=0 turns it off)
#   make demo     upsample the R logo 2x and 4x into $(DEMO_DIR)
#   make test     R tests + C++ (GoogleTest) tests, of the CUDA and the CPU-only builds when
#                 CUDA is found; last line "N passed, N failed, N skipped"
#   make check    R CMD build + R CMD check --as-cran --no-manual
#   make bench    run inst/bench/bench.R, if present
#   make bench-gpu  run inst/bench/bench_gpu.R (needs a CUDA build and a GPU)
#   make clean    remove build outputs
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
# --preclean: the package's Makevars does not track header dependencies, so every
# install rebuilds all objects.
INSTALL_FLAGS ?= --preclean

export DEBIAN_FRONTEND := noninteractive

# Debian packages: R and the package's R dependencies, and the C++ test toolchain.
DEB_R     := r-base-dev r-cran-rcppeigen r-cran-callr r-cran-testthat r-cran-roxygen2 \
             r-cran-png r-cran-jsonlite libopenblas0-pthread
DEB_CXX   := cmake g++ make libgtest-dev libeigen3-dev libopenblas-dev
DEB_CHECK := r-cran-knitr r-cran-rmarkdown pandoc qpdf devscripts

PKG     := $(shell sed -n 's/^Package: *//p' DESCRIPTION)
VERSION := $(shell sed -n 's/^Version: *//p' DESCRIPTION)
TARBALL := $(PKG)_$(VERSION).tar.gz

.PHONY: all deps deps-check install docs demo test check bench bench-gpu clean

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
install: deps docs
	@lib=$$($(RSCRIPT) -e 'cat(.libPaths()[1])'); \
	if [ ! -w "$$lib" ]; then \
	  $(RSCRIPT) -e 'd <- Sys.getenv("R_LIBS_USER"); dir.create(d, recursive = TRUE, showWarnings = FALSE); cat(d)' >/dev/null; \
	fi
	@mkdir -p $(BUILD); echo "R CMD INSTALL $(INSTALL_FLAGS) . (log: $(BUILD)/install.log)"
	@if [ "$(VERBOSE)" = 1 ]; then \
	  MAKEFLAGS=-j$(JOBS) R CMD INSTALL $(INSTALL_FLAGS) . 2>&1 | tee $(BUILD)/install.log; \
	elif MAKEFLAGS=-j$(JOBS) R CMD INSTALL $(INSTALL_FLAGS) . >$(BUILD)/install.log 2>&1; then \
	  grep -E '^deconv: GPU support' $(BUILD)/install.log || true; \
	  grep -E '^\* (installing to|DONE)' $(BUILD)/install.log; \
	  echo "  $$(grep -c 'warning:' $(BUILD)/install.log || true) compiler warning(s), $$(grep 'warning:' $(BUILD)/install.log | grep -vc '/RcppEigen/include/' || true) outside RcppEigen's headers"; \
	else \
	  tail -n 80 $(BUILD)/install.log; echo "install: R CMD INSTALL failed (full log: $(BUILD)/install.log)"; exit 1; \
	fi

demo: install
	$(RSCRIPT) inst/examples/upsample.R $(DEMO_DIR)

# tools/run_tests.sh prints "N passed, N failed, N skipped" last and fails if any failed.
# It gets a clean environment for CMake's make (no MAKEFLAGS from this make).
test: install
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL BUILD_DIR=$(BUILD) JOBS=$(JOBS) tools/run_tests.sh

# The vignette needs knitr, rmarkdown and pandoc to build; --as-cran needs qpdf and
# checkbashisms (devscripts). The CRAN incoming checks run without their remote part;
# offline, the file timestamp check still gives a NOTE ("unable to verify current time").
CHECK_ENV := _R_CHECK_CRAN_INCOMING_REMOTE_=false
check: deps-check docs
	rm -rf $(BUILD)/check && mkdir -p $(BUILD)/check
	cd $(BUILD)/check && R CMD build ../..
	cd $(BUILD)/check && $(CHECK_ENV) MAKEFLAGS=-j$(JOBS) \
	  R CMD check --as-cran --no-manual $(TARBALL)

bench: install
	@if [ -f inst/bench/bench.R ]; then $(RSCRIPT) inst/bench/bench.R; \
	else echo "bench: inst/bench/bench.R does not exist yet; nothing to run"; fi

bench-gpu: install
	$(RSCRIPT) inst/bench/bench_gpu.R

clean:
	rm -rf $(BUILD) $(PKG).Rcheck $(PKG)_*.tar.gz
	./cleanup
