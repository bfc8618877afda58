# The README's two commands, and the benchmarks. A minimal Debian without make runs scripts/demo and scripts/test.
.PHONY: demo test bench venv clean

# The main job, offline: crawl the bundled demo site on 127.0.0.1 and write JSON Lines.
demo:
	scripts/demo

# The whole test suite, the real-WordPress integration tests included.
test:
	scripts/test

# The benchmark (bench/run.py; not part of make test: 10-21 min). `.venv/bin/python bench/run.py --quick`: ~4 min.
bench:
	scripts/install-system-packages.sh
	scripts/venv.sh --test
	.venv/bin/python bench/run.py
	.venv/bin/python -m pip install -q -r bench/requirements-cleaning.txt
	.venv/bin/python bench/cleaning.py

venv:
	scripts/venv.sh --test

clean:
	rm -rf .venv output state build dist *.egg-info
