# Two set-up commands: `make demo` and `make test`. Both create .venv when it is
# missing and install the package with its cpu and dev extras.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.keras-explain-installed
BENCH_STAMP := $(VENV)/.keras-explain-bench

.PHONY: demo test bench install clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e ".[cpu,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py --out demo-output

test: $(STAMP)
	$(PY) -m pytest -q

# xplique pins an older TensorFlow build with CUDA; its own code runs on the
# installed one, so it is installed without its dependency pins.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -e ".[cpu,bench]"
	$(PY) -m pip install --no-deps "xplique==2.0.2" "tf_keras==2.21.0"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	for script in $(filter-out benchmarks/results.py,$(wildcard benchmarks/*.py)); do \
		$(PY) $$script || exit 1; \
	done

clean:
	rm -rf demo-output build *.egg-info
