"""Settings for the console, read once from the environment.

Every variable is read here, once, through the typed helpers of `console.env`, with its type and range: a
value they cannot read stops the start with one line naming the variable, what it got and what it accepts.
The defaults run on a fresh machine: SQLite and an embedded Celery broker under `var/`, a secret key and a
token-encryption key generated once into untracked files there.
"""

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.utils.csp import CSP
from kombu.transport import TRANSPORT_ALIASES

from console.env import (
    env_bool,
    env_choice,
    env_fernet_keys,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    env_url,
    fail,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def generated_secret(path: Path, make: Callable[[], str]) -> str:
    """Read a secret kept in an untracked file, creating it (mode 600) on first use."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    except OSError as error:
        fail("CONSOLE_VAR_DIR", "a folder this user can write", f"{str(path.parent)!r} ({error.strerror})")
    with os.fdopen(fd, "w") as f:
        f.write(make() + "\n")
    return path.read_text().strip()


# State that is not in git: the SQLite database, the embedded broker's folders, media, generated keys.
VAR_DIR = Path(env_str("CONSOLE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "") or generated_secret(VAR_DIR / "secret_key", lambda: secrets.token_urlsafe(50))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS",
    [],
    valid=lambda origin: origin.startswith(("http://", "https://")),
    accepts="comma-separated origins that start with https:// or http://",
)

# Keys that encrypt stored Clarifai tokens (Fernet). The first one encrypts; every one decrypts,
# so a key can be rotated by putting a new key first and keeping the old one until tokens are re-saved.
CONSOLE_TOKEN_KEYS = env_fernet_keys("CONSOLE_TOKEN_KEYS") or [
    generated_secret(VAR_DIR / "token_key", lambda: Fernet.generate_key().decode())
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",  # its widget templates, for the TemplatesSetting form renderer
    "django_htmx",
    "console.core",
    "console.accounts",
    "console.connections",
    "console.apps",
    "console.inputs",
    "console.concepts",
    "console.localapi",
    "console.jobs",
    "console.uploads",
    "console.datasets",
    "console.labeling",
    "console.teams",
    "console.audit",
    "axes",
]

MIDDLEWARE = [
    "console.core.middleware.ServerTimingMiddleware",
    "console.core.middleware.UpstreamDeadlineMiddleware",
    "console.core.middleware.CompressedTextMiddleware",  # outside every middleware that reads the body
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "console.audit.context.AuditMiddleware",  # who acts in this request, for the audit trail
    # Every page needs a signed-in user unless its view says otherwise (sign-in, health, the local API).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Then what the person may do: every URL is classified in console/teams/policy.py.
    "console.teams.policy.PolicyMiddleware",
    "console.teams.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "console.uploads.middleware.UploadSizeMiddleware",  # before anything reads a form (CSRF's view check)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.core.middleware.PrivatePagesMiddleware",
    "console.core.middleware.HtmxSignInMiddleware",
    "console.core.middleware.StyledNotAllowedMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a sign-in refused for too many failures into its page
]
CSRF_FAILURE_VIEW = "console.core.views.csrf_failure"

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.connections.context_processors.connections",
                "console.jobs.context_processors.running_jobs",
                "console.teams.context_processors.permissions",
            ],
        },
    },
]

FORM_RENDERER = "console.core.forms.ConsoleFormRenderer"

# SQLite by default; PostgreSQL (or anything dj-database-url reads) by DATABASE_URL.
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
    dj_database_url.ENGINE_SCHEMES,
    "a database URL that dj-database-url reads",
    parse=dj_database_url.parse,
)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server's threads and the worker write at the same time: WAL lets readers carry on,
    # IMMEDIATE transactions take the write lock up front instead of failing half way. Connections are
    # kept (DATABASE_CONN_MAX_AGE) as on PostgreSQL: opening one, with its PRAGMAs, and closing it cost
    # about 1.9 ms of every request, more than a thumbnail's whole lookup.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not memory, so that a worker process started by a test can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Security. Cookies are Secure unless DEBUG; `make run` serves plain http on 127.0.0.1 and turns
# them off with SECURE_COOKIES=0. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies in front that append the address they were connected from to X-Forwarded-For (sign-in throttling
# counts failures by the client's address, console/accounts/addresses.py).
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0, minimum=0, maximum=10)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline scripts or styles anywhere; pictures come from the console itself, or from the public
# https URL an input was added by when the API does not host it.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],  # pictures come through the console, never from a third party
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Sign-in throttling (django-axes): 5 failed sign-ins for an account, or from an address, lock it for
# 15 minutes (a failure meanwhile starts the wait again); a success resets the count. The attempts
# are rows in the database, so every process sees them.
AUTHENTICATION_BACKENDS = [
    "console.accounts.backends.SignInThrottle",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "console.accounts.views.locked_out"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "console.accounts.addresses.client_address"

# Celery. The default broker is kombu's filesystem transport under var/broker, which needs no server,
# made safe for several processes (console/broker.py); set CELERY_BROKER_URL=redis://... in production.
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "filesystem://", TRANSPORT_ALIASES, "a broker URL whose scheme kombu knows"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = "console.broker:Transport"
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        # The folder is polled: every second by default, which would hold a worker to one task a second.
        "polling_interval": 0.1,
    }
    for _sub in ("queue", "control"):
        try:
            (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
        except OSError as _error:
            fail("CONSOLE_VAR_DIR", "a folder this user can write", f"{str(VAR_DIR)!r} ({_error.strerror})")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The console's side of the Clarifai API.
# The built-in connection reaches the local API through this in-process httpx transport.
CONSOLE_BUILTIN_TRANSPORT = "console.localapi.transport.LocalAPITransport"
# Longest a call to a Clarifai API may take, retries included (seconds).
CONSOLE_CLARIFAI_DEADLINE = env_int("CONSOLE_CLARIFAI_DEADLINE", 30, minimum=1)
CONSOLE_MEDIA_MAX_BYTES = env_int("CONSOLE_MEDIA_MAX_BYTES", 25 * 1024 * 1024, minimum=1)
CONSOLE_MEDIA_CACHE_ITEM_BYTES = env_int("CONSOLE_MEDIA_CACHE_ITEM_BYTES", 512 * 1024, minimum=1)
CONSOLE_MEDIA_CACHE_SECONDS = env_int("CONSOLE_MEDIA_CACHE_SECONDS", 3600, minimum=1)
# Thumbnails the console fetched, and rendered tiles, kept per process (size-capped:
# CONSOLE_MEDIA_CACHE_ITEM_BYTES each). Nothing that must be the same for every process goes there.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": env_int("CONSOLE_CACHE_ENTRIES", 2000, minimum=1)},
    }
}
# A cache every process shares (Redis), when CACHE_URL names one.
CACHE_URL = env_url("CACHE_URL", "", ["redis", "rediss", "unix"], "a Redis URL")
if CACHE_URL:
    CACHES["shared"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
# The request-rate limit per token (`console.clarifai.ratelimit`) must be one count for every web and
# worker process: the shared Redis cache when there is one, else a cache table in the database (its
# `add` is one INSERT against a primary key, so atomic across processes; a file-based cache's is not).
if CACHE_URL:
    CONSOLE_RATE_LIMIT_CACHE = "shared"
else:
    CACHES["ratelimit"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "console_ratelimit",
        # Each entry is one call's turn, kept for a few seconds; culling is the expired ones' cleanup.
        "OPTIONS": {"MAX_ENTRIES": 20000, "CULL_FREQUENCY": 4},
    }
    CONSOLE_RATE_LIMIT_CACHE = "ratelimit"
# Sessions live where every process sees the same state, so that signing out ends a session everywhere at
# once: in the database, read through the shared cache when there is one (never a per-process cache).
if CACHE_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "shared"
else:
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# A session ends after SESSION_IDLE_SECONDS without a request (its expiry moves on with each request, at
# most once a minute: console.teams.middleware), and when the browser closes only if that is sooner.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 8 * 3600, minimum=60)
# How long a team's invite link can be used (once).
TEAM_INVITE_SECONDS = env_int("TEAM_INVITE_HOURS", 72, minimum=1) * 3600

# The embedded Clarifai-compatible API.
LOCALAPI_ALLOW_PRIVATE_URLS = env_bool("LOCALAPI_ALLOW_PRIVATE_URLS", False)
LOCALAPI_MAX_IMAGE_BYTES = env_int("LOCALAPI_MAX_IMAGE_BYTES", 20 * 1024 * 1024, minimum=1)
LOCALAPI_MAX_IMAGE_PIXELS = env_int("LOCALAPI_MAX_IMAGE_PIXELS", 89_478_485, minimum=1)
LOCALAPI_FETCH_TIMEOUT = env_int("LOCALAPI_FETCH_TIMEOUT", 10, minimum=1)
LOCALAPI_MAX_TEXT_BYTES = env_int("LOCALAPI_MAX_TEXT_BYTES", 1024 * 1024, minimum=1)
# Largest request body: by default one picture of the largest size, in base64, and 1 MiB besides.
LOCALAPI_MAX_REQUEST_BYTES = env_int(
    "LOCALAPI_MAX_REQUEST_BYTES", 4 * -(-LOCALAPI_MAX_IMAGE_BYTES // 3) + 1024 * 1024, minimum=1
)
# Inputs left unfinished this many seconds are queued again, by a look that each worker makes when it
# starts and then every LOCALAPI_REQUEUE_EVERY seconds (0: only when it starts).
LOCALAPI_REQUEUE_AFTER = env_int("LOCALAPI_REQUEUE_AFTER", 60, minimum=0)
LOCALAPI_REQUEUE_EVERY = env_int("LOCALAPI_REQUEUE_EVERY", 30, minimum=0)
# Inputs a bulk operation changes per transaction.
LOCALAPI_BULK_CHUNK_SIZE = env_int("LOCALAPI_BULK_CHUNK_SIZE", 500, minimum=1)
# Archives of pictures (PostInputsUploads): the largest archive, the most its files may add up to once
# expanded, the most files it may hold, and how many files a worker turns into inputs per transaction.
LOCALAPI_MAX_ARCHIVE_BYTES = env_int("LOCALAPI_MAX_ARCHIVE_BYTES", 512 * 1024 * 1024, minimum=1)
LOCALAPI_MAX_ARCHIVE_EXPANDED_BYTES = env_int("LOCALAPI_MAX_ARCHIVE_EXPANDED_BYTES", 2 * 1024**3, minimum=1)
LOCALAPI_MAX_ARCHIVE_FILES = env_int("LOCALAPI_MAX_ARCHIVE_FILES", 100_000, minimum=1)
LOCALAPI_ARCHIVE_CHUNK_SIZE = env_int("LOCALAPI_ARCHIVE_CHUNK_SIZE", 32, minimum=1)

# The console's jobs (bulk changes): inputs per chunk (one API call each), how long a worker may hold a
# chunk before another takes it over (a worker that died), and how often a worker looks for jobs that
# no worker is advancing (0: only when it starts).
JOBS_CHUNK_SIZE = env_int("JOBS_CHUNK_SIZE", 100, minimum=1, maximum=128)
JOBS_CHUNK_LEASE = env_int("JOBS_CHUNK_LEASE", 120, minimum=1)
JOBS_RESUME_EVERY = env_int("JOBS_RESUME_EVERY", 30, minimum=0)

# Uploads: files wait in one spool folder that web and worker processes share until their job ends (the
# files of inputs that failed are kept UPLOAD_SPOOL_KEEP_HOURS for "retry the failed only").
UPLOAD_SPOOL_DIR = Path(env_str("UPLOAD_SPOOL_DIR", str(VAR_DIR / "uploads")))
try:
    UPLOAD_SPOOL_DIR.mkdir(parents=True, exist_ok=True)
except OSError as _error:
    fail("UPLOAD_SPOOL_DIR", "a folder this user can write", f"{str(UPLOAD_SPOOL_DIR)!r} ({_error.strerror})")
UPLOAD_MAX_FILE_BYTES = env_int("UPLOAD_MAX_FILE_BYTES", LOCALAPI_MAX_IMAGE_BYTES, minimum=1)
# The most one upload form may send at once (its files together); larger ones are refused unread.
UPLOAD_MAX_REQUEST_BYTES = env_int("UPLOAD_MAX_REQUEST_BYTES", 2 * 1024 * 1024 * 1024, minimum=1)
UPLOAD_MAX_EXPANDED_BYTES = env_int("UPLOAD_MAX_EXPANDED_BYTES", 2 * 1024 * 1024 * 1024, minimum=1)
UPLOAD_SPOOL_KEEP_HOURS = env_int("UPLOAD_SPOOL_KEEP_HOURS", 24, minimum=0)
# Files one form may send at once (Django's own default is 100); more go in a zip archive.
DATA_UPLOAD_MAX_NUMBER_FILES = 1000

# What `manage.py serve` (the end of `make run`) starts: gunicorn on SERVE_HOST:SERVE_PORT, and a Celery worker.
SERVE_HOST = env_str("HOST", "127.0.0.1")
SERVE_PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
SERVE_WEB_PROCESSES = env_int("WEB_PROCESSES", 2, minimum=1)
SERVE_WEB_THREADS = env_int("WEB_THREADS", 8, minimum=1)
SERVE_WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 2, minimum=1)
# The local API over gRPC (for the official `clarifai` SDK), on SERVE_HOST:GRPC_PORT beside the web server;
# GRPC_PORT=0 (or set and empty) runs no gRPC server. Hosted media URLs in its answers start with
# GRPC_HTTP_ORIGIN (empty: the web server's own http://HOST:PORT), since gRPC cannot serve the pictures.
GRPC_PORT = 0 if os.environ.get("GRPC_PORT") == "" else env_int("GRPC_PORT", 8001, minimum=0, maximum=65535)
GRPC_THREADS = env_int("GRPC_THREADS", 8, minimum=1)
GRPC_HTTP_ORIGIN = env_str("GRPC_HTTP_ORIGIN", "").rstrip("/")
# The first console account `bootstrap_console` makes: both or neither (then `admin`, password generated).
CONSOLE_ADMIN_USER = env_str("CONSOLE_ADMIN_USER", "")
CONSOLE_ADMIN_PASSWORD = env_str("CONSOLE_ADMIN_PASSWORD", "")
if CONSOLE_ADMIN_USER and not CONSOLE_ADMIN_PASSWORD:
    fail("CONSOLE_ADMIN_PASSWORD", "set when CONSOLE_ADMIN_USER is", "empty")
if CONSOLE_ADMIN_PASSWORD and not CONSOLE_ADMIN_USER:
    fail("CONSOLE_ADMIN_USER", "set when CONSOLE_ADMIN_PASSWORD is", "empty")

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # httpx logs every request URL at INFO; URLs carry no token, but keep the noise down.
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # every sign-in at INFO; failures and lockouts are warnings
    },
}
