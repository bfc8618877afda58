# scrapyd-deploy builds eggs with `setup.py bdist_egg`; the package itself is described in pyproject.toml.
from setuptools import setup

setup()
