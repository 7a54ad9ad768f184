"""The Makefile finds a Python 3.12 or newer and the system Chromium, and says clearly what is missing."""

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


# `make test` installs the system Chromium when it is missing. The real install cannot be repeated in a test
# (it needs the network, root, and changes the machine), so `apt-get`, `id` and `sudo` are stand-ins on PATH:
# `apt-get` records its arguments and, on `install chromium`, puts an executable where Chromium belongs.


def fake_system(tmp_path: Path, *, uid: int, sudo_works: bool) -> tuple[dict[str, str], Path, Path]:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    chromium = tmp_path / "chromium"
    calls = tmp_path / "apt-get-calls"
    scripts = {
        "apt-get": f'#!/bin/sh\necho "$*" >> {calls}\n'
        f'case "$*" in *install*chromium*) printf "#!/bin/sh\\n" > {chromium}; chmod +x {chromium};; esac\n',
        "id": f"#!/bin/sh\necho {uid}\n",
        "sudo": '#!/bin/sh\n[ "$1" = -n ] && shift\n' + ('exec "$@"\n' if sudo_works else "exit 1\n"),
    }
    for name, text in scripts.items():
        (fake_bin / name).write_text(text)
        (fake_bin / name).chmod(0o755)
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "CHROMIUM_PATH": str(chromium)}
    return env, chromium, calls


def make_chromium(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "chromium"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def test_it_installs_the_system_chromium_when_it_is_missing_and_the_user_is_root(tmp_path: Path) -> None:
    env, chromium, calls = fake_system(tmp_path, uid=0, sudo_works=False)
    result = make_chromium(tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Installing the system Chromium" in result.stdout
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]
    assert chromium.exists()


def test_it_installs_the_system_chromium_with_passwordless_sudo(tmp_path: Path) -> None:
    env, chromium, calls = fake_system(tmp_path, uid=1000, sudo_works=True)
    result = make_chromium(tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]
    assert chromium.exists()


def test_it_stops_at_once_with_the_command_to_run_when_it_cannot_install(tmp_path: Path) -> None:
    env, chromium, calls = fake_system(tmp_path, uid=1000, sudo_works=False)
    result = make_chromium(tmp_path, env)
    assert result.returncode != 0
    assert f"The browser tests need Chromium at {chromium}" in result.stdout
    assert "sudo apt-get update && sudo apt-get install -y chromium" in result.stdout
    assert not calls.exists()


def test_it_installs_nothing_when_chromium_is_there(tmp_path: Path) -> None:
    env, chromium, calls = fake_system(tmp_path, uid=0, sudo_works=True)
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    result = make_chromium(tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not calls.exists()


def test_make_test_checks_for_chromium_before_running_the_tests() -> None:
    result = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    commands = result.stdout
    assert commands.index('chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"') < commands.index("-m pytest")
