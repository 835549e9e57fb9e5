# ssfnas — the two commands a user needs are `make demo` and `make test`.
# Everything installs itself into .venv (torch from the machine's local wheels when present).
SHELL := /bin/bash
PY    := .venv/bin/python
STAMP := .venv/.installed

.PHONY: demo test docs lab export clean-runs help gpu-check

help:
	@echo "make demo  - run the tiny SSF-NAS job on the embedded CIFAR-10-LT sample (results in runs/demo/)"
	@echo "make test  - notebooks (nbdev_test), pytest, export check and docs build; ends with 'N passed, N failed, N skipped'"
	@echo "make docs  - render the notebooks into the site in docs/ (no quarto needed)"
	@echo "make lab   - start JupyterLab on nbs/"
	@echo "make gpu-check - on a lent GPU: fused vs plain, every step's speed and memory, a short real run, the paper preset's projected time (runs/gpu_check.json)"

$(STAMP): pyproject.toml Makefile
	@bash tools/install_apt.sh dot graphviz
	@bash tools/install_apt.sh c++ g++
	@bash tools/install_apt.sh ninja ninja-build
	@bash tools/install_apt.sh chromium chromium
	@bash tools/install_apt.sh chromedriver chromium-driver
	@test -x $(PY) || bash tools/check_disk.sh 8
	@test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip >/dev/null
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

# MathJax and lunr for the docs, from npm once (pinned in tools/build_docs.py); `make docs` then needs no network
NPM_DIR := .venv/share/ssfnas-npm
$(NPM_DIR)/.fetched: tools/build_docs.py tools/fetch_npm.sh | $(STAMP)
	@bash tools/install_apt.sh npm npm
	bash tools/fetch_npm.sh $(NPM_DIR) $$($(PY) tools/build_docs.py --npm-specs)
	@touch $@

demo: $(STAMP)
	.venv/bin/ssfnas demo --out runs/demo

test: $(STAMP) $(NPM_DIR)/.fetched
	bash tools/run_tests.sh

docs: $(STAMP) $(NPM_DIR)/.fetched
	$(PY) tools/build_docs.py --out docs

gpu-check: $(STAMP)
	$(PY) -m ssfnas.bench gpu-check --json runs/gpu_check.json

lab: $(STAMP)
	.venv/bin/jupyter lab nbs

export: $(STAMP)
	.venv/bin/nbdev_export && .venv/bin/nbdev_clean && $(PY) tools/make_readme.py
