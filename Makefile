# The course's commands. The two a newcomer needs: `make lab` and `make test`.
# Both create the virtual environment in .venv on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LEARNER_STAMP := $(VENV)/.installed-course
# JupyterLab refuses to run as root without this flag.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
FIRST_LESSON := notebooks/00_start_here.ipynb
# The lab shows notebooks/ only, each lesson once: the executed .ipynb. Its Jupytext twin
# (the reviewed .py source) stays hidden there and is kept in sync on every save.
LAB_HIDE := ["__pycache__", "*.pyc", ".ipynb_checkpoints", "*.py", "jupytext.toml"]
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup lab test unit nbval notebooks constraints bench ablations book book-publish student clean

setup: $(STAMP)

# pip -c pins torch to the 2.13.0 CPU build (and the rest to the versions the notebooks
# were executed with); pyproject.toml keeps the ranges.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade-strategy only-if-needed -c constraints.txt -e '.[course,test,book]'
	touch $(STAMP) $(LEARNER_STAMP)

# A learner's environment: the package, its widgets, JupyterLab and Jupytext; no test or
# website tools (`make setup` adds those).
$(LEARNER_STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade-strategy only-if-needed -c constraints.txt -e '.[course]'
	touch $(LEARNER_STAMP)

# The URL JupyterLab prints (and opens) is lesson 00 itself, not the Launcher.
lab: $(LEARNER_STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 $(ROOT_FLAG) \
		--ServerApp.root_dir=$(dir $(FIRST_LESSON)) \
		--LabApp.default_url=/lab/tree/$(notdir $(FIRST_LESSON)) \
		--ContentsManager.hide_globs='$(LAB_HIDE)'

# One torch thread per test worker (two workers, one test file each at a time), while
# `make notebooks` executes the lessons with every core: nbval
# then proves each lesson's text output is the same on a second run and with 1 and 2 threads.
# The JupyterLab browser tests run afterwards, on their own and one file per process: beside
# the other worker's lesson runs, a keyboard test once timed out waiting for the widget to
# answer, and in one process a file's drags failed after another file's Lab session.
LAB_TESTS := $(wildcard tests/test_browser_*.py)

test: setup
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 --dist loadfile tests $(NBVAL) notebooks/*.ipynb $(LAB_TESTS:%=--ignore %)
	for t in $(LAB_TESTS); do OMP_NUM_THREADS=1 $(PY) -m pytest $$t || exit 1; done

unit: setup
	$(PY) -m pytest tests

nbval: setup
	$(PY) -m pytest $(NBVAL) notebooks/*.ipynb

# Re-execute every lesson from its .py source and write the executed .ipynb twin.
notebooks: setup
	$(PY) tools/execute_notebooks.py

constraints: setup
	$(PY) tools/write_constraints.py

# The website (Jupyter Book 1.x) in book/_build/html: warnings are errors, links are checked.
book: setup
	$(PY) tools/build_book.py

# A deployable copy of the website in build/site (see "Publishing the website" in README.md).
book-publish: setup
	$(PY) tools/build_book.py --publish build/site

# Student copies of the lessons in student/: solution cells replaced by stubs (nbgrader markers).
student: setup
	$(PY) tools/make_student.py

clean:
	rm -rf $(VENV) .pytest_cache book/_build build student

bench: setup
	$(PY) benchmarks/run.py

# Trained ablations of the loss (tools/ablations.py): every variant at lesson 06's budget over
# five seeds, written to benchmarks/ablations.csv and benchmarks/ablations.png. One thread, so the
# numbers do not depend on the machine's core count.
ablations: setup
	OMP_NUM_THREADS=1 $(PY) tools/ablations.py --seeds 5
