"""Session-wide checks of the Python tests.

Required packages: everything scripts/setup.sh installs from
requirements.txt (numpy, dpnp, dpctl, Cython, pybind11) and the dpcore
package that `make build` builds are imported plainly here, so a missing one
fails the whole run at once (it is never a skip). Nothing the tests use is
optional today; a genuinely optional package would use
pytest.importorskip(name, reason="why it is optional").
"""
import importlib

REQUIRED = ["numpy", "dpctl", "dpctl.memory", "dpnp", "Cython", "pybind11", "dpcore"]

for _name in REQUIRED:
    try:
        importlib.import_module(_name)
    except ImportError as e:
        raise ImportError(
            f"required package {_name!r} cannot be imported ({e}); scripts/setup.sh installs it "
            "(requirements.txt into .venv; dpcore by `make build`): run `make build` and "
            "`. scripts/env.sh`") from e
