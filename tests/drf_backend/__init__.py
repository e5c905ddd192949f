"""A Django REST framework implementation of the Experiments API v2, used as a real backend for the contract suite."""
