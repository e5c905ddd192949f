"""The stateful mock of the Experiments API: `python -m mock_server` serves openapi.yaml with its rules."""

import warnings

# Connexion 3.3 imports starlette.testclient when it is imported (connexion/apps/abstract.py), and on
# Starlette 1.x that module warns unless httpx2 is installed. The mock never uses the test client, so a
# team that installs the kit beside FastAPI (Starlette 1.x) would see a warning about nothing it does.
# Only that warning, raised for that module, is ignored (pyproject.toml's pytest filter says the same).
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated",
                        module="connexion.apps.abstract")
