import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

# Test helpers (tests/frameworks.py) import as top-level modules under --import-mode=importlib.
sys.path.insert(0, os.path.dirname(__file__))
