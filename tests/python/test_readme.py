"""Every ```python block of README.md runs as written."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert BLOCKS


@pytest.fixture(scope="module")
def built_examples():
    """The README's blocks use the pybind11 example; build it (quick when up to date)."""
    subprocess.run(["bash", str(ROOT / "examples-pybind11" / "onemkl_gemv" / "build.sh")], check=True,
                   capture_output=True, timeout=600)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(code, built_examples):
    # Run from the checkout's root, as a reader of the README would.
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, f"README block failed:\n{code}\n--- stderr ---\n{r.stderr}"


def test_readme_cmake_block_is_the_tested_standalone_project():
    """The README's CMake lines are those of examples-pybind11/onemkl_gemv,
    which make test-wheel builds with pip against the installed wheel."""
    blocks = re.findall(r"```cmake\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    project = (ROOT / "examples-pybind11" / "onemkl_gemv" / "CMakeLists.txt").read_text().splitlines()
    for line in blocks[0].strip().splitlines():
        assert line in project, f"README's CMake line not in the tested project: {line}"
