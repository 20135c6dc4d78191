# Two set-up commands: `make demo` and `make test`. Both create .venv when it is
# missing and install the package with its cpu, dev and ray extras (the Ray
# tests start a real local cluster), and xplique without its dependency pins
# (it pins an older TensorFlow with CUDA; its code runs on the installed one)
# for the metrics' parity tests; `make test` runs the linter (ruff, configured
# in pyproject.toml) and then the tests.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.keras-explain-installed
BENCH_STAMP := $(VENV)/.keras-explain-bench

.PHONY: demo test bench install browser clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e ".[cpu,dev,ray]"
	$(PY) -m pip install -q --no-deps "xplique==2.0.2" "tf_keras==2.21.0"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py --out demo-output

test: $(STAMP) browser
	$(PY) -m ruff check .
	$(PY) -m pytest -q

# The report's browser test needs headless Chromium: Debian's package is
# installed when it is missing and apt-get can run; otherwise that test is
# skipped with the reason.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Debian's chromium for the browser test"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
				>/dev/null 2>&1 || echo "chromium could not be installed: the browser test will be skipped"; \
		else \
			echo "chromium is missing and apt-get cannot run here: the browser test will be skipped"; \
		fi; \
	fi

# xplique pins an older TensorFlow build with CUDA; its own code runs on the
# installed one, so it is installed without its dependency pins.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -e ".[cpu,bench]"
	$(PY) -m pip install --no-deps "xplique==2.0.2" "tf_keras==2.21.0"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	for script in $(filter-out benchmarks/common.py,$(wildcard benchmarks/*.py)); do \
		$(PY) $$script || exit 1; \
	done

clean:
	rm -rf demo-output build *.egg-info
