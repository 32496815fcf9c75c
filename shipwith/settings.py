"""Settings preset for shipwith; every knob comes from the environment (see README)."""

from pathlib import Path

import dj_database_url

from shipwith.config import env, env_bool, env_list, home_dir, secret_key

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPWITH_HOME = home_dir()

SECRET_KEY = secret_key(SHIPWITH_HOME)
# Keys still accepted when checking signatures (not used to sign): the old key while a rotated
# one takes over, so unsubscribe links in mailed digests keep working (README: rotating).
SECRET_KEY_FALLBACKS = env_list("SHIPWITH_SECRET_KEY_FALLBACKS")
DEBUG = env_bool("SHIPWITH_DEBUG")
ALLOWED_HOSTS = env_list("SHIPWITH_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("SHIPWITH_CSRF_TRUSTED_ORIGINS")
SHIPWITH_BASE_URL = env("SHIPWITH_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_tasks",
    "django_tasks_db",
    "shipwith.core",
    "shipwith.catalog",
    "shipwith.panel",
    "shipwith.votes",
    "shipwith.ingest",
    "shipwith.comparisons",
    "shipwith.newsletter",
    "shipwith.web",
]

# The headers every response gets come before what only readers' pages and the admin use
# (sessions, CSRF, users, messages), so a hot API read is answered in between (api section).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
# Only the admin shows messages: keep them in its session, so a public request builds no
# cookie signer for them (the default cookie storage derives one on every request).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "shipwith.urls"
WSGI_APPLICATION = "shipwith.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url: str) -> dict:
    # Connections are kept between requests on SQLite too: opening one parses the whole schema
    # (about 0.8 ms of CPU), which a request that only counts a rate-limit hit paid every time.
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            # WAL lets readers run beside the writer; IMMEDIATE avoids lock upgrades that fail.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return config


DATABASES = {
    "default": _database(env("DATABASE_URL", f"sqlite:///{SHIPWITH_HOME / 'shipwith.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_redis_url = env("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "shipwith.core.rediscache.RedisCache", "LOCATION": _redis_url}
        if _redis_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shipwith"}
    )
}

TASKS = {"default": {"BACKEND": env("SHIPWITH_TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = SHIPWITH_HOME / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# deployment: headers on every response; behind TLS (SHIPWITH_HTTPS=1) secure cookies, HSTS
# and a redirect of plain HTTP, so `shipwith check --deploy` has nothing to warn about.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env_bool("SHIPWITH_HTTPS"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # nginx sets it (deploy/)
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(env("SHIPWITH_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SHIPWITH_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SHIPWITH_HSTS_PRELOAD", True)
# Admin sign-in attempts per client address ("N/s|m|h|d"); past that, 429 with Retry-After.
SHIPWITH_ADMIN_LOGIN_RATE = env("SHIPWITH_ADMIN_LOGIN_RATE", "10/m")

# The panel's default model: "auto" (a model server already running on this machine, else the
# embedded model; shipwith/panel/llm/discover.py), "local", "openai:MODEL" or "anthropic:MODEL".
SHIPWITH_LLM = env("SHIPWITH_LLM", "auto")
# auto: part of a model id to prefer (e.g. "qwen"), and the ports asked on 127.0.0.1 (Ollama,
# llama.cpp's server, LM Studio).
SHIPWITH_LLM_AUTO_PREFER = env("SHIPWITH_LLM_AUTO_PREFER")
SHIPWITH_LLM_AUTO_PORTS = [
    int(port) for port in env_list("SHIPWITH_LLM_AUTO_PORTS", "11434,8080,1234")
]
# The server of the openai: model SHIPWITH_LLM names, when not OPENAI_BASE_URL's (`up` sets it
# for its worker and web server when auto found one; other openai: specs keep OPENAI_BASE_URL).
SHIPWITH_LLM_BASE_URL = env("SHIPWITH_LLM_BASE_URL")

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "shipwith <verdicts@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("SHIPWITH_LOG_LEVEL", "WARNING")},
}
FORMS_URLFIELD_ASSUME_HTTPS = True

# web: cached pages must be shared by every gunicorn worker, the task worker and the CLI (their
# freshness stamps are database rows), so without Redis the cache lives in files, not in one
# process (test runs keep the per-process memory cache so they never see each other's entries).
if not _redis_url and "pytest" not in __import__("sys").modules:
    CACHES["default"] = {
        "BACKEND": "shipwith.core.filecache.FileCache",
        "LOCATION": str(SHIPWITH_HOME / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 200_000},
    }
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.clickjacking.XFrameOptionsMiddleware") + 1,
    "shipwith.web.middleware.ContentSecurityPolicyMiddleware",
)

# votes: the minimum before a community share shows, rate limits ("N/s|m|h|d"), the daily cap.
SHIPWITH_VOTES_MIN = int(env("SHIPWITH_VOTES_MIN", "10"))
SHIPWITH_VOTES_RATE_VOTER = env("SHIPWITH_VOTES_RATE_VOTER", "30/m")
SHIPWITH_VOTES_RATE_IP = env("SHIPWITH_VOTES_RATE_IP", "300/m")
SHIPWITH_VOTES_DAILY_CAP = int(env("SHIPWITH_VOTES_DAILY_CAP", "200"))
# votes: how far the community's share may stray from the panel's before it is flagged; the
# seconds a refit waits to take in the votes that follow, and the leaderboard's bootstrap rounds.
SHIPWITH_VOTES_DISAGREEMENT = float(env("SHIPWITH_VOTES_DISAGREEMENT", "0.4"))
SHIPWITH_VOTES_REFIT_DELAY = int(env("SHIPWITH_VOTES_REFIT_DELAY", "30"))
SHIPWITH_VOTES_BOOTSTRAP_ROUNDS = int(env("SHIPWITH_VOTES_BOOTSTRAP_ROUNDS", "100"))
# votes and core (rates, client, counters): new voter identities one address may mint in any
# 24 hours, a count of proxies (or their addresses/CIDRs) whose X-Forwarded-For is believed, and
# where every rate limit is counted: Redis when REDIS_URL is set, else the database; shared by
# every process either way.
SHIPWITH_VOTES_NEW_VOTERS_PER_IP = env("SHIPWITH_VOTES_NEW_VOTERS_PER_IP", "10/d")
SHIPWITH_TRUSTED_PROXIES = env("SHIPWITH_TRUSTED_PROXIES")
SHIPWITH_LIMITS_REDIS_URL = _redis_url
SHIPWITH_LIMITS_PREFIX = env("SHIPWITH_LIMITS_PREFIX", "shipwith:limit:")  # of the Redis keys

# panel: limits of the LLM layer (seconds per call, retries, calls at once, embedded threads).
SHIPWITH_LLM_TIMEOUT = float(env("SHIPWITH_LLM_TIMEOUT", "120"))
SHIPWITH_LLM_RETRIES = int(env("SHIPWITH_LLM_RETRIES", "3"))
SHIPWITH_LLM_CONCURRENCY = int(env("SHIPWITH_LLM_CONCURRENCY", "4"))
SHIPWITH_LLM_BACKOFF = float(env("SHIPWITH_LLM_BACKOFF", "1"))  # first wait between tries, s
# panel: the OpenAI-compatible server's context window in tokens (Ollama's num_ctx, llama.cpp's
# --ctx-size), when it is small: a tool's pages are then cut to fit it. 0: large enough.
SHIPWITH_LLM_CONTEXT = int(env("SHIPWITH_LLM_CONTEXT", "0")) or None
SHIPWITH_LOCAL_THREADS = int(env("SHIPWITH_LOCAL_THREADS", "0")) or None
# The embedded model: its context, and sampling that keeps a 135M model on its rails.
SHIPWITH_LOCAL_N_CTX = int(env("SHIPWITH_LOCAL_N_CTX", "4096"))
SHIPWITH_LOCAL_TEMPERATURE = float(env("SHIPWITH_LOCAL_TEMPERATURE", "0.3"))
SHIPWITH_LOCAL_REPEAT_PENALTY = float(env("SHIPWITH_LOCAL_REPEAT_PENALTY", "1.25"))
# Where `local:PATH` models may live (besides the bundled one): no caller can load other files.
SHIPWITH_LOCAL_MODELS_DIR = Path(env("SHIPWITH_LOCAL_MODELS_DIR", str(SHIPWITH_HOME / "models")))
# panel: a model of another family for the seats the default must leave (its vendor's tools),
# and how often (and how long apart, doubling) the worker retries a failed seat.
SHIPWITH_LLM_ALTERNATE = env("SHIPWITH_LLM_ALTERNATE", "")
SHIPWITH_PANEL_SEAT_RETRIES = int(env("SHIPWITH_PANEL_SEAT_RETRIES", "3"))
SHIPWITH_PANEL_SEAT_BACKOFF = float(env("SHIPWITH_PANEL_SEAT_BACKOFF", "60"))
# How long a claim on a seat lasts; its worker renews it every quarter of that while it waits.
SHIPWITH_PANEL_SEAT_LEASE = float(env("SHIPWITH_PANEL_SEAT_LEASE", "120"))
# Task workers beat every SHIPWITH_WORKER_BEAT seconds; one silent for SHIPWITH_WORKER_LEASE is
# dead and its running task goes back to the queue (core/workers.py). The lease outlasts a
# seat's by two beats, so a requeued panel finds the dead worker's seats free again.
SHIPWITH_WORKER_BEAT = float(env("SHIPWITH_WORKER_BEAT", "10"))
SHIPWITH_WORKER_LEASE = float(
    env("SHIPWITH_WORKER_LEASE", str(SHIPWITH_PANEL_SEAT_LEASE + 2 * SHIPWITH_WORKER_BEAT))
)

# newsletter: any ANYMAIL_* variable reaches django-anymail, e.g. ANYMAIL_MAILGUN_API_KEY.
ANYMAIL = {k[8:]: v for k, v in __import__("os").environ.items() if k.startswith("ANYMAIL_")}
# newsletter: seconds a sender may go without renewing its claim before another takes over,
# and how many deliveries a sender claims at a time.
NEWSLETTER_CLAIM_LEASE = int(env("SHIPWITH_NEWSLETTER_CLAIM_LEASE", "900"))
NEWSLETTER_BATCH_SIZE = int(env("SHIPWITH_NEWSLETTER_BATCH_SIZE", "200"))
# newsletter: sign-ups one client address may make ("N/s|m|h|d"); the seconds before one address
# is mailed another confirmation link, and how long such a link works.
NEWSLETTER_SIGNUP_RATE = env("SHIPWITH_NEWSLETTER_SIGNUP_RATE", "10/h")
NEWSLETTER_CONFIRM_COOLDOWN = int(env("SHIPWITH_NEWSLETTER_CONFIRM_COOLDOWN", "600"))
NEWSLETTER_CONFIRM_MAX_AGE = int(env("SHIPWITH_NEWSLETTER_CONFIRM_MAX_AGE", str(3 * 24 * 3600)))
# newsletter: tries after a temporary failure per message, the first wait (seconds, doubling).
NEWSLETTER_SEND_RETRIES = int(env("SHIPWITH_NEWSLETTER_SEND_RETRIES", "4"))
NEWSLETTER_RETRY_BASE_SECONDS = float(env("SHIPWITH_NEWSLETTER_RETRY_BASE_SECONDS", "2"))

# Newsletter digest (ingest-core): at most this many comparisons, complete panels only.
NEWSLETTER_MAX_COMPARISONS = int(env("NEWSLETTER_MAX_COMPARISONS", "10"))

# ingest: limits of the one Fetcher every ingest request goes through (shipwith/ingest/fetch.py).
# SHIPWITH_INGEST_ALLOW_PRIVATE lets it reach loopback/private addresses: for tests only.
SHIPWITH_INGEST_ALLOW_PRIVATE = env_bool("SHIPWITH_INGEST_ALLOW_PRIVATE")
SHIPWITH_INGEST_MAX_BYTES = int(env("SHIPWITH_INGEST_MAX_BYTES", str(16 * 1024 * 1024)))
SHIPWITH_INGEST_CONNECT_TIMEOUT = float(env("SHIPWITH_INGEST_CONNECT_TIMEOUT", "10"))
SHIPWITH_INGEST_READ_TIMEOUT = float(env("SHIPWITH_INGEST_READ_TIMEOUT", "20"))
SHIPWITH_INGEST_TOTAL_TIMEOUT = float(env("SHIPWITH_INGEST_TOTAL_TIMEOUT", "60"))
SHIPWITH_INGEST_HOST_DELAY = float(env("SHIPWITH_INGEST_HOST_DELAY", "1"))  # seconds per host
SHIPWITH_INGEST_RETRIES = int(env("SHIPWITH_INGEST_RETRIES", "2"))
SHIPWITH_INGEST_RETRY_AFTER_MAX = float(env("SHIPWITH_INGEST_RETRY_AFTER_MAX", "30"))
SHIPWITH_INGEST_MAX_REDIRECTS = int(env("SHIPWITH_INGEST_MAX_REDIRECTS", "5"))
# The only ports ingest connects to, on any host and every redirect hop (ALLOW_PRIVATE opens none).
SHIPWITH_INGEST_ALLOWED_PORTS = frozenset(
    int(port) for port in env_list("SHIPWITH_INGEST_ALLOWED_PORTS", "80,443")
)
# ingest: the default sources `up` adds to a database with none (0: none), from this file
# (empty: the packaged shipwith/ingest/defaults.yaml); polling (0: the worker reads no source
# and refreshes no page on its own; `shipwith ingest run|refresh` still do).
SHIPWITH_INGEST_DEFAULTS = env_bool("SHIPWITH_INGEST_DEFAULTS", True)
SHIPWITH_INGEST_DEFAULTS_FILE = env("SHIPWITH_INGEST_DEFAULTS_FILE")
SHIPWITH_INGEST_POLL = env_bool("SHIPWITH_INGEST_POLL", True)
SHIPWITH_GITHUB_TOKEN = env("SHIPWITH_GITHUB_TOKEN")  # github sources: 5,000 requests/h, not 60
# The API hosts the token may go to (a GitHub Enterprise host can be added): a github source
# with any other host is read without it.
SHIPWITH_GITHUB_TOKEN_HOSTS = [
    host.strip().lower()
    for host in env("SHIPWITH_GITHUB_TOKEN_HOSTS", "api.github.com").split(",")
    if host.strip()
]

# api: the JSON API at /api/v1/ (django-ninja; "ninja" serves the docs page's own static files).
# CORS is open for reads under /api/ only (shipwith/api/cors.py: a preflight is answered before
# CommonMiddleware); a per-client rate limit ("N/s|m|h|d", counted in the shared store) on every
# API request, another per token on writes. ApiMiddleware comes before the sessions: the API
# reads no cookie, and a hot read is answered there with every header a page gets.
INSTALLED_APPS += ["ninja", "shipwith.api"]
INSTALLED_APPS += ["shipwith.apps.ShipwithConfig"]  # the top layer: `shipwith up`
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.common.CommonMiddleware"),
    "shipwith.api.cors.CorsMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "shipwith.api.middleware.ApiMiddleware",
)
SHIPWITH_API_RATE = env("SHIPWITH_API_RATE", "300/m")
SHIPWITH_API_WRITE_RATE = env("SHIPWITH_API_WRITE_RATE", "60/m")

# web: how long a process trusts the page stamps it read (s), and nginx's proxy cache time (s).
# A tenth of a second: a hot page still reads its stamps at most ten times a second per
# process (throughput unchanged: bench/README.md), and a new verdict shows within it.
SHIPWITH_FRESHNESS_MEMO_SECONDS = float(env("SHIPWITH_FRESHNESS_MEMO_SECONDS", "0.1"))
SHIPWITH_PROXY_CACHE_SECONDS = int(env("SHIPWITH_PROXY_CACHE_SECONDS", "5"))
