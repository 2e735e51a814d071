"""Copy the status-panel screenshot the browser test saved into the README's image (run by hand, not in CI).

    python -m pytest tests/system/browser -k status_panel     # writes artifacts/readme-status-panel.png
    python .ci/refresh_readme_image.py                        # copies it to notebooks/images/

The README image is committed; refreshing it is a deliberate step, reviewed like any other change.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "artifacts" / "readme-status-panel.png"
TARGET = REPO / "notebooks" / "images" / "jupyterlab-status-panel.png"


def main() -> int:
    if not SOURCE.is_file():
        print(
            f"{SOURCE.relative_to(REPO)} not found: run the browser test first (tests/system/browser)", file=sys.stderr
        )
        return 1
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, TARGET)
    print(f"copied {SOURCE.relative_to(REPO)} -> {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
