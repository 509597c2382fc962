"""Every setting comes from the environment; defaults run the demo on SQLite.

Typed helpers read ``NAME`` or, for secrets, the file named by ``NAME_FILE``. A bad value raises
``ImproperlyConfigured`` at start-up instead of surfacing as odd behaviour later.
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the content of the file named by NAME_FILE (Docker/systemd credentials)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE cannot be read: {exc}") from None
    return os.environ.get(name, default)


def database_from_url(url: str) -> dict:
    """Turn ``postgres://user:pass@host:port/name?sslmode=…`` or ``sqlite:///path`` into a DATABASES entry."""
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "mamori",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
            "TEST": {"NAME": envstr("DB_TEST_NAME") or None},
        }
    if parts.scheme == "sqlite":
        # sqlite:///relative/to/cwd.sqlite3 or sqlite:////absolute/path.sqlite3, as SQLAlchemy and dj-database-url.
        return sqlite_database(Path(unquote(parts.path[1:])))
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported (postgres:// or sqlite://)")


def sqlite_database(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # WAL lets the web server read while the worker writes; IMMEDIATE avoids upgrade deadlocks.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


DEBUG = envbool("DEBUG", False)
# DEMO: the README's demo (local mail catcher, printed admin password, no TLS). Never in production.
DEMO = envbool("MAMORI_DEMO", False)
DATA_DIR = Path(envstr("MAMORI_DATA_DIR", str(BASE_DIR / "data")))
# Tests set this so that the suite runs without TLS redirects and with fast password hashing.
TESTING = envbool("MAMORI_TESTING", False)

SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or DEMO or TESTING:
        SECRET_KEY = "insecure-development-key-" + "x" * 40
    else:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set outside DEBUG/demo mode")
SECRET_KEY_FALLBACKS = envlist("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Drill links point here: in production a separate look-alike host routed to mamori; SITE_URL by default.
DRILL_BASE_URL = envstr("DRILL_BASE_URL", SITE_URL).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "mamori.accounts",
    "mamori.core",
    "mamori.drills",
    "mamori.reporting",
    "mamori.learning",
    "mamori.incidents",
    "mamori.intel",
    "mamori.vendors",
    "mamori.metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mamori.core.middleware.OrganizationMiddleware",
    "mamori.accounts.middleware.MFARequiredMiddleware",
]

ROOT_URLCONF = "mamori.urls"
WSGI_APPLICATION = "mamori.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mamori.core.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = envstr("DATABASE_URL")
DATABASES = {
    "default": database_from_url(DATABASE_URL) if DATABASE_URL else sqlite_database(DATA_DIR / "mamori.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Login throttling: this many failures for one account within the window lock it for the window.
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_SECONDS = envint("LOGIN_LOCKOUT_SECONDS", 15 * 60)
# One client address may fail more often (several staff behind one office NAT) before it is throttled.
LOGIN_FAILURE_LIMIT_PER_ADDRESS = envint("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 4 * LOGIN_FAILURE_LIMIT)
# Sessions end after 8 idle hours (a working day) and with the browser.
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PASSWORD_RESET_TIMEOUT = 60 * 60

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"

# A file cache in the data directory is shared by the web and worker processes (roster import progress).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}

# Uploads: files over this size are refused with a message (the 100,000-person roster is ~10 MB).
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Mail: SMTP on loopback by default (the demo's mail catcher listens on 1025). Django 6.1 mailers.
MAILERS = {
    "default": {
        "BACKEND": envstr("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": envstr("EMAIL_HOST", "127.0.0.1"),
            "port": envint("EMAIL_PORT", 1025),
            "username": envstr("EMAIL_HOST_USER"),
            "password": envsecret("EMAIL_HOST_PASSWORD"),
            "use_tls": envbool("EMAIL_USE_TLS", False),
            "use_ssl": envbool("EMAIL_USE_SSL", False),
            "timeout": envint("EMAIL_TIMEOUT", 30),
        },
    }
}
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "mamori <noreply@mamori.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security headers. TLS settings are on unless the demo or tests run on plain http://127.0.0.1.
PLAIN_HTTP = DEBUG or DEMO or TESTING
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not PLAIN_HTTP)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", False) else None
# How many reverse proxies stand in front of mamori: client addresses (login throttling, audit log) are then
# read from X-Forwarded-For as those proxies wrote it. 0 = use the connection's address.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
SESSION_COOKIE_SECURE = not PLAIN_HTTP
CSRF_COOKIE_SECURE = not PLAIN_HTTP
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if PLAIN_HTTP else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not PLAIN_HTTP
SECURE_HSTS_PRELOAD = not PLAIN_HTTP
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No CDN, no inline script: LGWAN terminals reach nothing outside and pages must not run injected code.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# The worker polls the database for work (roster imports now; sending and mailboxes later).
WORKER_POLL_SECONDS = envint("WORKER_POLL_SECONDS", 2)

# `mamori serve`: where granian listens, and its processes × threads (WSGI requests in parallel).
WEB_HOST = envstr("WEB_HOST", "127.0.0.1")
WEB_PORT = envint("WEB_PORT", 8000)
WEB_WORKERS = envint("WEB_WORKERS", 1)
WEB_THREADS = envint("WEB_THREADS", 4)

# Drill tracking (mamori.drills.tracking, docs/decisions/0003). The hit path prepares its two statements on
# PostgreSQL; turn this off behind a transaction-pooling PgBouncer older than 1.21.
TRACKING_PREPARED_STATEMENTS = envbool("TRACKING_PREPARED_STATEMENTS", True)
# Hits are committed without waiting for the WAL flush (PostgreSQL): a crash of the database server may lose
# the last fraction of a second of hits. Off = every hit waits for its flush.
TRACKING_ASYNCHRONOUS_COMMIT = envbool("TRACKING_ASYNCHRONOUS_COMMIT", True)
# The automated-hit classifier (mamori.drills.tracking.classifier).
# Hits are classified once this old, so that the page's confirmation beacon and trap-link hits have arrived.
TRACKING_CLASSIFY_AFTER_SECONDS = envint("TRACKING_CLASSIFY_AFTER_SECONDS", 120)
# A hit on the same delivery this close (before or after) to a hit on the hidden trap link is automated.
TRACKING_TRAP_WINDOW_SECONDS = envint("TRACKING_TRAP_WINDOW_SECONDS", 120)
# A click or scan whose page's script did not confirm within this time is automated.
TRACKING_CONFIRM_WINDOW_SECONDS = envint("TRACKING_CONFIRM_WINDOW_SECONDS", 60)
# A hit this soon after the mail was sent is a gateway scanning it on delivery, not a person reading it.
TRACKING_LATENCY_SECONDS = envint("TRACKING_LATENCY_SECONDS", 10)
# One client address hitting this many different tokens within a minute is a scanner (0 = off). Needs stored
# addresses; behind one office NAT many people share an address, hence a threshold well above one.
TRACKING_MANY_TOKENS = envint("TRACKING_MANY_TOKENS", 10)
# Substrings (case-insensitive) of the user agents of link scanners, previewers and HTTP libraries.
TRACKING_SCANNER_USER_AGENTS = envlist(
    "TRACKING_SCANNER_USER_AGENTS",
    "Microsoft Office Existence Discovery,ms-office,MSOffice,BingPreview,SafeLinks,Safe Links,Defender,"
    "Proofpoint,Mimecast,Barracuda,Trend Micro,TrendMicro,Symantec,Sophos,FireEye,Forcepoint,Zscaler,IronPort,"
    "FortiGuard,Google-Safety,Googlebot,bingbot,Slackbot,Twitterbot,facebookexternalhit,LinkedInBot,WhatsApp,"
    "TelegramBot,Discordbot,python-requests,python-urllib,aiohttp,httpx,curl,Wget,Go-http-client,Java/,"
    "Apache-HttpClient,libwww-perl,okhttp,axios,node-fetch,HeadlessChrome,PhantomJS",
)
# Address ranges of mail-security services (CIDR): Microsoft 365 Exchange Online Protection by default.
TRACKING_SCANNER_NETWORKS = envlist(
    "TRACKING_SCANNER_NETWORKS",
    "40.92.0.0/15,40.107.0.0/16,52.100.0.0/14,104.47.0.0/17,2a01:111:f400::/48,2a01:111:f403::/48",
)
for _network in TRACKING_SCANNER_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRACKING_SCANNER_NETWORKS: {_network!r} is not a CIDR range") from None
if max(TRACKING_TRAP_WINDOW_SECONDS, TRACKING_CONFIRM_WINDOW_SECONDS) > TRACKING_CLASSIFY_AFTER_SECONDS:
    raise ImproperlyConfigured(
        "TRACKING_CLASSIFY_AFTER_SECONDS must be at least the trap and confirmation windows: "
        "a hit is classified only once the hits that decide it can have arrived"
    )

# Metrics (mamori.metrics, docs/metrics.md). Dashboards read rollups that the worker recomputes for campaigns
# that are sending, running or closed within METRICS_REFRESH_CLOSED_DAYS, once their rollup is this old. A figure
# on a page may lag the events by TRACKING_CLASSIFY_AFTER_SECONDS (a hit waits to be classified) + this period
# + two worker polls; the page states that bound (mamori.metrics.kpis).
METRICS_ROLLUP_SECONDS = envint("METRICS_ROLLUP_SECONDS", 300)
METRICS_REFRESH_CLOSED_DAYS = envint("METRICS_REFRESH_CLOSED_DAYS", 14)
# Departments, positions and employment types with fewer people than this are merged (into the parent
# department or 「その他」) in breakdowns and rankings, so that no one's own result can be read off.
METRICS_MIN_GROUP_SIZE = envint("METRICS_MIN_GROUP_SIZE", 5)

# Incidents (mamori.incidents, docs/incidents.md).
# Evidence files larger than this are refused (disk and memory images stay offline, registered by hash).
INCIDENTS_EVIDENCE_MAX_BYTES = envint("INCIDENTS_EVIDENCE_MAX_BYTES", 200 * 1024 * 1024)
# The major-incident rule (重大インシデント): at least this many personal records, or a service stop this long.
INCIDENTS_MAJOR_RECORDS = envint("INCIDENTS_MAJOR_RECORDS", 1000)
INCIDENTS_MAJOR_OUTAGE_HOURS = envint("INCIDENTS_MAJOR_OUTAGE_HOURS", 24)
# 個人情報保護委員会への速報 (規則第44条第1項 "速やかに"; the PPC guideline reads it as about 3 to 5 days): due at
# the end of this day, the day the ward knew (detection, JST) being day 1. See mamori/incidents/legal_clock.py.
INCIDENTS_PPC_PRELIMINARY_DAYS = envint("INCIDENTS_PPC_PRELIMINARY_DAYS", 3)
# The KGI: mean time from detection to close, in hours (seed 003: ≤ 24 h).
INCIDENTS_MTTR_TARGET_HOURS = envint("INCIDENTS_MTTR_TARGET_HOURS", 24)
