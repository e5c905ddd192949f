"""The contract suite: holds any deployment of the Experiments API (or the embedded mock) to openapi.yaml."""
