# embedrec: `make demo` and `make test` are the whole quick start; both install into .venv/
# first when it is missing or older than pyproject.toml / the constraints file.
#
# DEVICE=cpu (default without an NVIDIA driver) installs torch's CPU wheel, fbgemm-gpu-cpu
# and faiss-cpu. DEVICE=cuda (default where `nvidia-smi` works) installs torch's CUDA wheel
# from TORCH_INDEX, fbgemm-gpu and faiss-gpu-cu12. torchrec goes in with --no-deps either way,
# because its metadata always names the CUDA `fbgemm-gpu` (~465 MB, unusable on CPU).

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

.PHONY: install demo test test-all check bench-quality clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing embedrec ($(DEVICE)) into $(VENV)/ ..."
	$(PIP) $(TORCH_SOURCE) torch==2.13.0
	$(PIP) -e '.[$(DEVICE),dev]'
	$(PIP) --no-deps torchrec==1.8.0
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: install
	$(VENV)/bin/embedrec demo --workdir demo-run --overwrite

test: install
	$(PY) -m pytest -q

# Everything, the slow/multiprocess/browser tests included (gpu tests skip without CUDA).
test-all: install
	$(PY) -m pytest -q -m ''

check: install
	$(VENV)/bin/ruff check $(PACKAGES) tests bench
	$(VENV)/bin/ruff format --check $(PACKAGES) tests bench
	$(VENV)/bin/mypy $(PACKAGES)

clean-venv:
	rm -rf $(VENV)
