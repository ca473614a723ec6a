"""The sweeps' shared strategies (_hostile_values.py) sit next to this file."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
