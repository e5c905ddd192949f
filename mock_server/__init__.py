"""The stateful mock of the Experiments API: `python -m mock_server` serves openapi.yaml with its rules."""
