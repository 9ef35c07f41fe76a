# The two commands: `make demo` and `make test`. Both create .venv when missing and install.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED_DATA := $(abspath ../shared/data)
ifeq ($(origin NASGCN_DATA), undefined)
  ifneq ($(wildcard $(SHARED_DATA)),)
    export NASGCN_DATA := $(SHARED_DATA)
  endif
endif

.PHONY: install test demo clean

$(BIN)/nasgcn: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned, so pip takes the local CPU build rather than a CUDA one
	$(BIN)/pip install --quiet -c constraints.txt torch
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(BIN)/nasgcn

install: $(BIN)/nasgcn

test: install
	$(BIN)/python -m pytest -q

demo: install
	$(BIN)/nasgcn run --config configs/demo.toml --out runs/demo

clean:
	rm -rf $(VENV) *.egg-info
