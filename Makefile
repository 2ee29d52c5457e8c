# embedrec: `make demo` and `make test` are the whole quick start; both install into .venv/
# first when it is missing or older than pyproject.toml / the constraints file.
#
# DEVICE=cpu (default without an NVIDIA driver) installs torch's CPU wheel, fbgemm-gpu-cpu
# and faiss-cpu. DEVICE=cuda (default where `nvidia-smi` works) installs torch's CUDA wheel
# from TORCH_INDEX, fbgemm-gpu and faiss-gpu-cu12. torchrec goes in with --no-deps either way
# (why: README "Install", the one place that says it).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEVICE ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo cuda || echo cpu)
TORCH_INDEX ?= https://download.pytorch.org/whl/cu130
CONSTRAINTS := requirements/constraints-$(DEVICE).txt
STAMP := $(VENV)/.installed-$(DEVICE)
PIP := $(PY) -m pip install --disable-pip-version-check -q -c $(CONSTRAINTS)
TORCH_SOURCE := $(if $(filter cuda,$(DEVICE)),--extra-index-url $(TORCH_INDEX),)
PACKAGES := embedrec engine pipelines indexes serving

.PHONY: install demo test test-slow test-all check typecheck-view dist-check bench-quality clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing embedrec ($(DEVICE)) into $(VENV)/ ..."
	$(PIP) $(TORCH_SOURCE) torch==2.13.0
	$(PIP) -e '.[$(DEVICE),serve,plot,dev]'
	$(PIP) --no-deps torchrec==1.8.0
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: install
	$(VENV)/bin/embedrec demo --workdir demo-run --overwrite

test: install
	$(PY) -m pytest -q

# The slow and multi-process tests (real torchrun ranks, Dask clusters, the 3 GB out-of-core
# run), as CI runs them after `make test`; the slowest are listed at the end. Browser tests
# stay out (they need Chromium).
test-slow: install
	$(PY) -m pytest -q -m '(slow or multiprocess) and not browser' --durations=15

# Everything, the slow/multiprocess/browser tests included (gpu tests skip without CUDA).
test-all: install
	$(PY) -m pytest -q -m ''

check: install typecheck-view
	$(VENV)/bin/ruff check $(PACKAGES) tests bench docs/architecture.py
	$(VENV)/bin/ruff format --check $(PACKAGES) tests bench docs/architecture.py
	cd $(TYPECHECK_VIEW) && $(CURDIR)/$(VENV)/bin/mypy --config-file $(CURDIR)/pyproject.toml \
		--cache-dir $(CURDIR)/.mypy_cache -p embedrec

# mypy cannot follow setuptools' editable finder for package-dir, so it checks the namespace
# through a view of symlinks laid out as the wheel installs it (embedrec/engine -> engine/, ...).
TYPECHECK_VIEW := build/typecheck
typecheck-view:
	@rm -rf $(TYPECHECK_VIEW) && mkdir -p $(TYPECHECK_VIEW)/embedrec
	@for entry in embedrec/*; do ln -s $(CURDIR)/$$entry $(TYPECHECK_VIEW)/$$entry; done
	@for package in engine pipelines indexes serving; do \
		ln -s $(CURDIR)/$$package $(TYPECHECK_VIEW)/embedrec/$$package; done

# The wheel, installed outside the checkout as README "Install" tells pip users, runs the demo.
# torch's CPU wheel comes from TORCH_CPU_INDEX, unless pip already has a local wheelhouse
# (PIP_FIND_LINKS, as on this project's machines); override with DIST_TORCH_SOURCE=...
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
DIST_TORCH_SOURCE ?= $(if $(PIP_FIND_LINKS),,--index-url $(TORCH_CPU_INDEX))
DIST_DEMO_ARGS ?= --words 150000 --epochs 1
dist-check: install
	PYTHON=$(PYTHON) BUILD_PY=$(PY) TORCH_SOURCE="$(DIST_TORCH_SOURCE)" \
		DEMO_ARGS="$(DIST_DEMO_ARGS)" .ci/dist-check

clean-venv:
	rm -rf $(VENV)
