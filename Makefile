# Every target sets itself up: the first call makes .venv and installs the project into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MANIFEST := workflows/cluster/manifests/dailyscrum.yaml
REGISTRY ?=
TAG ?=
IMAGE_OPTIONS = $(if $(REGISTRY),--registry $(REGISTRY)) $(if $(TAG),--tag $(TAG))
# The golden folder holds the default images; a render for other images goes to build/manifests.
RENDER_DIR = $(if $(REGISTRY)$(TAG),build/manifests,workflows/cluster/manifests)

.PHONY: setup test lint run render submit images push bench report clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n auto

lint: setup
	$(VENV)/bin/ruff check .
	$(PY) -m workflows lint $(MANIFEST)

run: setup
	$(PY) -m workflows.local_demo

render: setup
	mkdir -p $(RENDER_DIR)
	$(PY) -m workflows render $(IMAGE_OPTIONS) --output-dir $(RENDER_DIR)

submit: setup
	$(PY) -m workflows submit

images: setup
	$(PY) -m images build $(IMAGE_OPTIONS)

push: setup
	$(PY) -m images push $(IMAGE_OPTIONS)

bench: setup
	$(PY) -m pytest tests/bench -m bench -p no:cacheprovider -s

report: setup
	$(PY) -m workflows report

clean:
	rm -rf $(VENV) runs build .pytest_cache .ruff_cache
