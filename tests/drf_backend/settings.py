"""Django settings for the backend; the process entry point fills the environment variables they read."""

import os

SECRET_KEY = "drf-backend-for-contract-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = ["rest_framework", "drf_backend"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware", "drf_backend.faults.FaultHeaderMiddleware"]
ROOT_URLCONF = "drf_backend.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DRF_BACKEND_DB", ":memory:"),
        # A request is applied whole or not at all.
        "ATOMIC_REQUESTS": True,
        # A throwaway test database: no fsync per write (a write took 19 ms with it, the test runs
        # send thousands).
        "OPTIONS": {"init_command": "PRAGMA synchronous=OFF; PRAGMA journal_mode=MEMORY;",
                    # Concurrent requests wait for the lock instead of failing with "database is locked":
                    # a transaction takes the write lock when it begins (a read lock upgraded later can
                    # deadlock, which SQLite answers at once), and waits up to 30 s for it.
                    "transaction_mode": "IMMEDIATE", "timeout": 30},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["drf_backend.auth.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # No django.contrib.auth here: the authenticated "user" is the caller's organization.
    "UNAUTHENTICATED_USER": None,
}

# Unhandled exceptions must show up on stderr; Django's default logging only mails them to ADMINS.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
}

DRF_BACKEND_FAULT = os.environ.get("DRF_BACKEND_FAULT", "")
DRF_BACKEND_FAULT_HEADER = os.environ.get("DRF_BACKEND_FAULT_HEADER") == "1"
_start_after = os.environ.get("DRF_BACKEND_START_RUNNING_AFTER", "")
DRF_BACKEND_START_RUNNING_AFTER: float | None = float(_start_after) if _start_after else None
