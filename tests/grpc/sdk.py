"""Importing the `clarifai` SDK on this machine (no Django here: scripts run by the tests import it too)."""

import subprocess
import sys
import types


def stand_in_for_clarifai_protocol() -> None:
    """The SDK imports clarifai_protocol (its model-runner protocol, a compiled Nuitka module) on
    `import clarifai.client`, and that module crashes this machine's Python 3.13.0 with a segmentation
    fault on import. Nothing of it runs in the data flows under test (it serves models), so when it
    cannot be imported in a child process, empty stand-ins of the names the SDK imports take its place.
    The real one is used wherever it imports."""
    if "clarifai_protocol" in sys.modules:
        return
    check = subprocess.run([sys.executable, "-c", "import clarifai_protocol"], capture_output=True, check=False)
    if check.returncode == 0:
        return
    names = {
        "clarifai_protocol": ["BaseRunner", "get_item_id", "register_item_abort_callback"],
        "clarifai_protocol.utils": [],
        "clarifai_protocol.utils.health": ["HealthProbeRequestHandler", "start_health_server_thread"],
        "clarifai_protocol.utils.grpc_server": ["GRPCServer"],
    }
    for module_name, attributes in names.items():
        module = types.ModuleType(module_name)
        for attribute in attributes:
            setattr(module, attribute, type(attribute, (), {}))
        sys.modules[module_name] = module
