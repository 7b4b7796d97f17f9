"""Tests of the reference manager.

Run from the repository root: ``python3 -m unittest discover -s reference/tests -t .``
The repository root goes on ``sys.path`` here, so ``reference.websocket_manager``
imports whichever top-level directory (``-t``) unittest was given.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
