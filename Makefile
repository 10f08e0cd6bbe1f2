# xlsdk — every target sets up what it needs, so a newcomer only ever runs `make demo` or `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.xlsdk-setup-stamp
# the exact versions the suite passed with (see .ci/lock); pyproject files keep the compatible ranges
CONSTRAINTS := .ci/constraints.txt
PLUGIN_PROJECTS := $(sort $(wildcard plugins/*/pyproject.toml))
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(PLUGIN_PROJECTS))
PYTEST_ARGS ?=
# the suite runs on every core, at most 4 (CI has 2): pytest-xdist workers, each test file whole on one worker
# (module fixtures are built once); TEST_WORKERS=0 runs it in this process alone
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 4 ? n : 4 )))
DEMO_OUT ?= out/demo

.PHONY: help setup lock demo test docs bench clean teleop-env

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(PLUGIN_PROJECTS) .ci/find-python $(CONSTRAINTS)
	@set -e; \
	if [ -x "$(PY)" ] && ! "$(PY)" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  echo "$(VENV) was made with Python < 3.12; recreating it"; rm -rf "$(VENV)"; fi; \
	if [ ! -x "$(PY)" ]; then \
	  python="$$(.ci/find-python)"; \
	  echo "creating $(VENV) with $$python"; \
	  "$$python" -m venv "$(VENV)"; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev,docs]' $(addprefix -e ,$(PLUGIN_DIRS))
	@touch $@

setup: $(STAMP)  ## create .venv with the core and every plugin (editable) plus dev tools, tested versions

lock:  ## after a dependency change and a green `make test`: pin .venv's versions in .ci/constraints.txt
	.ci/lock $(PY) $(CONSTRAINTS)

demo: setup  ## retarget a recorded grasp to every installed hand; writes a PNG and an HTML report
	@.ci/ensure-egl
	$(VENV)/bin/xlsdk demo --out $(DEMO_OUT)

test: setup  ## run the whole test suite
	@.ci/ensure-chromium
	@.ci/ensure-egl
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

docs: setup  ## build the documentation site strictly (site/)
	$(VENV)/bin/mkdocs build --strict

bench: setup  ## run the benchmarks (ratios against the peer measured in the same run)
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[bench]'
	$(PY) benchmarks/run.py

TELEOP_VENV ?= .venv-teleop
teleop-env: $(TELEOP_VENV)/.installed  ## the camera front-end of `xlsdk teleop`: MediaPipe in an env of its own (.venv-teleop)

# MediaPipe 0.10.14 needs protobuf < 5 and opencv-contrib, which conflict with the core venv's; it runs as
# a subprocess that prints keypoints (xlsdk/camera_keypoints.py), so it shares nothing with .venv
$(TELEOP_VENV)/.installed: .ci/teleop-requirements.txt
	@set -e; python="$$(.ci/find-python)"; rm -rf "$(TELEOP_VENV)"; \
	"$$python" -m venv "$(TELEOP_VENV)"; \
	"$(TELEOP_VENV)/bin/python" -m pip install --quiet -r .ci/teleop-requirements.txt; \
	touch "$@"

clean:  ## remove the virtualenv and build outputs
	rm -rf $(VENV) site build dist out
