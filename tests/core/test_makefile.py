"""The Makefile finds a Python 3.12 or newer, and says clearly what is missing when there is none."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_says_what_is_missing_when_no_python_is_new_enough(tmp_path: Path) -> None:
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    old = fake_bin / "python3"
    old.write_text("#!/bin/sh\necho 'Python 3.11.7'\nexit 1\n")  # too old: fails the version check
    old.chmod(0o755)
    result = subprocess.run(
        ["make", "setup"],
        cwd=tmp_path,
        env={"PATH": f"{fake_bin}:/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "No Python 3.12 or newer found" in result.stdout + result.stderr
    assert "Install Python 3.12+" in result.stdout + result.stderr
    assert not (tmp_path / ".venv").exists()
