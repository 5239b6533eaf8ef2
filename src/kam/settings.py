"""Django settings for KAM.

Everything a deployment changes comes from the environment:
KAM_HOME (data directory, default ./var), DATABASE_URL, KAM_SECRET_KEY,
KAM_DEBUG, KAM_ALLOWED_HOSTS, KAM_HTTPS.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
KAM_HOME = Path(os.environ.get("KAM_HOME", "var")).resolve()
KAM_HOME.mkdir(parents=True, exist_ok=True)


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Use KAM_SECRET_KEY, else a random key kept in KAM_HOME so sessions survive restarts."""
    if key := os.environ.get("KAM_SECRET_KEY"):
        return key
    path = KAM_HOME / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("KAM_DEBUG")
ALLOWED_HOSTS = os.environ.get("KAM_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KAM_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "template_partials",
    "simple_history",
    "axes",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "kam.core",
    "kam.accounts",
    "kam.imports",
    "kam.revenue",
    "kam.tiering",
    "kam.activities",
    "kam.sales",
    "kam.insight",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kam.core.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages and API answers gzipped when the browser takes it (gunicorn does not); static files
    # have their own compressed copies and never reach it. KAM_COMPRESS=0 behind a proxy that does it.
    *(["django.middleware.gzip.GZipMiddleware"] if _env_flag("KAM_COMPRESS", True) else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kam.core.middleware.SessionIdleTimeoutMiddleware",
    "kam.core.web.DomainErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Development only: KAM_DEBUG=1 KAM_DEBUG_TOOLBAR=1 shows on every page its queries with their
# times and plans, the templates it rendered and their context (django-debug-toolbar, a dev
# extra) — to profile a page before fixing it at the cause. Never on with DEBUG off.
DEBUG_TOOLBAR = DEBUG and _env_flag("KAM_DEBUG_TOOLBAR")
if DEBUG_TOOLBAR:
    INSTALLED_APPS.append("debug_toolbar")
    # After the compression, so the toolbar goes into the page before it is gzipped.
    MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
                      "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1"]

ROOT_URLCONF = "kam.urls"
# Widgets render with the project's templates too (the autocomplete picker lives there).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "kam.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kam.home.navigation.menu",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
# SQLite: WAL so readers never block the writer; IMMEDIATE so two writers queue
# on the busy timeout instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{KAM_HOME / 'kam.sqlite3'}"),
        conn_max_age=int(os.environ.get("KAM_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if DATABASES["default"]["NAME"] == ":memory:" else 60
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth and sessions ------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kam.core.backends.UserAndUnitBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Every password set anywhere (kam createuser, the admin's forms, kam manage changepassword,
# the user_create/user_set_password services) passes these; the minimum length is
# KAM["PASSWORD_MIN_LENGTH"].
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "display_name", "first_name", "last_name", "email", "mobile")}},
    {"NAME": "kam.core.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions end after KAM["SESSION_IDLE_SECONDS"] without a request and KAM["SESSION_ABSOLUTE_SECONDS"]
# after the login, however busy (kam.core.middleware); the cookie never outlives the latter.
SESSION_COOKIE_AGE = int(os.environ.get("KAM_SESSION_ABSOLUTE_SECONDS", 12 * 3600))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Brute force (django-axes, kam.core.login_throttle): three counters, each with its own limit
# in KAM — one username from one address (LOGIN_FAILURE_LIMIT), one address over all usernames
# (LOGIN_IP_FAILURE_LIMIT, password spraying), one username over all addresses
# (LOGIN_USERNAME_FAILURE_LIMIT). The last two do not apply to a username trying from an address
# it logged in from within LOGIN_TRUSTED_DAYS, so an attacker cannot lock everyone out: their
# owners still log in from their usual addresses. Failures are forgotten, and locks lift,
# after LOGIN_COOLOFF_MINUTES; an administrator unlocks at once on the audit page.
# Django's CSRF failure page has an inline style the Content-Security-Policy blocks.
CSRF_FAILURE_VIEW = "kam.core.failures.csrf_failure"

AXES_HANDLER = "kam.core.login_throttle.LoginThrottle"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
AXES_FAILURE_LIMIT = "kam.core.login_throttle.failure_limit"
AXES_COOLOFF_TIME = "kam.core.login_throttle.cool_off"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "kam.core.login_throttle.lockout_response"

# --- HTTPS (production) -------------------------------------------------------
if _env_flag("KAM_HTTPS"):
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp; kam.core.csp) ---------------------------------
# On every response, pages, API, static files and error pages alike: scripts, styles,
# fonts and connections only from this site, no inline script or style and no eval (htmx
# runs with allowEval off, its indicator styles come from kam.css), images also as data:
# URIs (Tabler's icons in its CSS), never framed. Violations are reported to /csp-report/,
# which logs them to the "kam.security" logger. ECharts styles its elements through the
# CSSOM, which the policy does not restrict.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "report-uri": "/csp-report/",
    },
}
# Browsers that know report-to use it instead of report-uri, through the Reporting API, which
# delivers only to secure origins: over plain HTTP it would silence the reports. So report-to
# (and its Reporting-Endpoints header) only when served over HTTPS; /csp-report/ takes both.
if _env_flag("KAM_HTTPS"):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-to"] = "csp-endpoint"

# --- i18n ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Chinese pages group thousands as 12,345.60 (kam/formats/zh_Hans); the rest is Django's.
FORMAT_MODULE_PATH = ["kam.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- files ----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = KAM_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# KAM_STATIC=collected (what `kam serve` sets): the static files are collected into STATIC_ROOT
# with a hash in every name and a gzip and a brotli copy of each (WhiteNoise's manifest storage),
# so a browser keeps them for a year and asks again only when a file changes. Otherwise (tests,
# runserver, the command line) they are served from the source tree under their plain names.
STATIC_COLLECTED = os.environ.get("KAM_STATIC", "source") == "collected" and not DEBUG
if STATIC_COLLECTED:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "kam.core.staticfiles.CollectedStaticFiles"},
    }
else:
    WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = KAM_HOME / "media"
# Uploads: a file over 5 MB is spooled to a temporary file, never held in memory whole; a file
# over IMPORT_MAX_BYTES is stopped while it arrives (kam.imports.uploads); form fields other than
# files may total 10 MB (beyond that Django answers the 400 page).
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "kam.imports.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- background work ---------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "kam.core.logs.StderrHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KAM_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- domain defaults ------------------------------------------------------------------
# Every number the domain uses is a setting; override any key with KAM_<KEY> in the
# environment or by replacing KAM in a local settings module.
KAM = {
    "PAGE_SIZE": 25,
    "PAGE_SIZE_MAX": 200,
    # Lists show numbered pages up to this one and page by cursor ("next" after the last row
    # shown) beyond it, so a deep page costs what the first one does.
    "PAGE_NUMBERED_MAX": 10,
    # A list counts at most this many rows for its total; beyond, it says "more than …".
    "PAGE_COUNT_LIMIT": 10_000,
    # Opportunity board: the cards a stage column shows at first and loads at a time.
    "BOARD_COLUMN_SIZE": 20,
    "AUTOCOMPLETE_LIMIT": 20,
    # Duplicate check: names whose normalised form is this similar are flagged on create.
    "SIMILAR_NAME_RATIO": 0.85,
    # Decision chain: fewer active contacts than this means single-threaded.
    "MIN_ACTIVE_CONTACTS": 2,
    # Hours a successor must be named within after a key contact leaves.
    "KEY_CONTACT_HANDOVER_HOURS": 24,
    # Days a deleted account, contact or opportunity stays in the recycle bin (restorable);
    # the nightly kam.accounts.tasks.purge_recycle_bin then removes it for good.
    "RECYCLE_BIN_DAYS": 15,
    # Passwords: the shortest accepted (with the similarity, common and numeric checks of
    # AUTH_PASSWORD_VALIDATORS).
    "PASSWORD_MIN_LENGTH": 12,
    # Sessions: seconds without a request after which a session ends, and seconds after the
    # login after which it ends however busy (the cookie's age).
    "SESSION_IDLE_SECONDS": 30 * 60,
    "SESSION_ABSOLUTE_SECONDS": SESSION_COOKIE_AGE,
    # Login throttling (see AXES_* above): failed logins allowed within LOGIN_COOLOFF_MINUTES for
    # one username from one address, for one address over all usernames, and for one username
    # over all addresses; days a successful login makes its address trusted for that username.
    "LOGIN_FAILURE_LIMIT": 5,
    "LOGIN_IP_FAILURE_LIMIT": 30,
    "LOGIN_USERNAME_FAILURE_LIMIT": 20,
    "LOGIN_COOLOFF_MINUTES": 15,
    "LOGIN_TRUSTED_DAYS": 30,
    # API tokens: days a new token is valid (kam token --days N within 1..API_TOKEN_MAX_DAYS);
    # seconds between two writes of a token's last-used time.
    "API_TOKEN_DAYS": 90,
    "API_TOKEN_MAX_DAYS": 366,
    "API_TOKEN_TOUCH_SECONDS": 60,
    # Days audit events (and login records) are kept; the nightly sweep removes older ones.
    # China's Cybersecurity Law asks for network logs to be kept at least six months.
    "AUDIT_RETENTION_DAYS": 400,
    # CSP violation reports: the largest body read, and the reports one address gets logged
    # per minute (the rest are answered and dropped).
    "CSP_REPORT_MAX_BYTES": 64 * 1024,
    "CSP_REPORTS_PER_MINUTE": 60,
    # Imports: rows written per transaction in batched imports; an all-or-nothing import
    # of up to IMPORT_SINGLE_TRANSACTION_ROWS rows is one transaction.
    "IMPORT_BATCH_ROWS": 2000,
    "IMPORT_SINGLE_TRANSACTION_ROWS": 20000,
    "IMPORT_MAX_ROWS": 1_000_000,
    # Uploads that cannot hurt the server (kam.imports.guard; docs/imports.md, "Limits"): the
    # largest upload, and what an .xlsx may hold — zip parts, bytes once unpacked, compression
    # ratio of any part over IMPORT_XLSX_RATIO_MIN_BYTES, columns and cells of the first sheet's
    # used range (declared and actual, counted from A1), shared strings, and the text the cells
    # copy from them. The reader's memory follows the used range: 10 million cells is ~320 MB.
    "IMPORT_MAX_BYTES": 200_000_000,
    "IMPORT_MAX_COLUMNS": 200,
    "IMPORT_XLSX_MAX_MEMBERS": 1000,
    "IMPORT_XLSX_MAX_UNPACKED_BYTES": 1_000_000_000,
    "IMPORT_XLSX_MAX_RATIO": 200,
    "IMPORT_XLSX_RATIO_MIN_BYTES": 1_000_000,
    "IMPORT_SHEET_MAX_COLUMNS": 1000,
    "IMPORT_SHEET_MAX_CELLS": 10_000_000,
    "IMPORT_XLSX_MAX_SHARED_STRINGS": 5_000_000,
    "IMPORT_XLSX_MAX_TEXT_BYTES": 500_000_000,
    "IMPORT_PREVIEW_ISSUES": 500,
    # A running import whose process is no registered worker (`kam import` on another machine)
    # counts as dead once the job itself has not moved for this long.
    "IMPORT_STALE_SECONDS": 120,
    "API_REVENUE_MAX_LINES": 10_000,
    # The nightly run (local time) and the background jobs it enqueues, once a day.
    "NIGHTLY_AT": "02:00",
    "NIGHTLY_TASKS": (
        "kam.activities.tasks.create_cadence_reminders,kam.activities.tasks.apply_playbooks,"
        "kam.activities.tasks.create_sample_calls,"
        "kam.sales.tasks.lead_sla_sweep,kam.sales.tasks.pool_sweep,kam.sales.tasks.review_escalation_sweep,"
        "kam.insight.tasks.insight_nightly,kam.core.tasks.audit_retention_sweep,kam.accounts.tasks.purge_recycle_bin,"
        "kam.core.tasks.summaries_rebuild"
    ),
    # Background workers: how many `kam serve` runs. Each beats every WORKER_HEARTBEAT_SECONDS
    # from a thread of its own and counts as alive while its last beat is within
    # WORKER_STALE_SECONDS (longer than SQLite's busy timeout, so a beat waiting behind a long
    # write does not make a live worker look dead). Records of stopped workers are kept
    # WORKER_RECORD_DAYS days.
    "WORKER_PROCESSES": 1,
    "WORKER_HEARTBEAT_SECONDS": 5,
    "WORKER_STALE_SECONDS": 30,
    "WORKER_RECORD_DAYS": 7,
    # `kam serve` restarts a background worker or the scheduler that exits: after
    # SERVE_RESTART_MIN_SECONDS, doubling with each quick exit up to SERVE_RESTART_MAX_SECONDS,
    # back to the minimum once the child had run SERVE_RESTART_RESET_SECONDS. On stop, children
    # get SERVE_STOP_GRACE_SECONDS to finish before they are killed.
    "SERVE_RESTART_MIN_SECONDS": 1.0,
    "SERVE_RESTART_MAX_SECONDS": 30.0,
    "SERVE_RESTART_RESET_SECONDS": 60.0,
    "SERVE_STOP_GRACE_SECONDS": 10.0,
    # Rows an export may hold (the whole visible list, filtered).
    "EXPORT_MAX_ROWS": 1_000_000,
    # Activities: a time later than now by more than this is refused (clocks differ a little);
    # one older than ACTIVITY_MAX_AGE_DAYS is taken for a typo.
    "ACTIVITY_FUTURE_TOLERANCE_MINUTES": 15,
    "ACTIVITY_MAX_AGE_DAYS": 3660,
    # Activities shown on the account page; open tasks on the home page.
    "TIMELINE_LENGTH": 10,
    "HOME_TASKS": 8,
    # Service standards: the activity kinds that count as a visit and as a call (comma-separated).
    "CADENCE_VISIT_KINDS": "visit,meeting,demo",
    "CADENCE_CALL_KINDS": "call,letter",
    # … and as a value report delivered and an executive meeting (the standards' other cadences).
    "CADENCE_REPORT_KINDS": "value_report",
    "CADENCE_EXECUTIVE_KINDS": "executive",
    # The scheme whose standards the compliance page opens with and the reminders follow.
    "CADENCE_SCHEME": "monthly-spend",
    # Reminders: a task for each visit or call falling due within this many days.
    "CADENCE_REMINDER_DAYS": 7,
    # ABC care: each month every owner gets SAMPLE_CALLS_PER_OWNER sample calls (抽样回访) to
    # accounts drawn at random among theirs in the SAMPLE_CALL_TIERS of SAMPLE_CALL_SCHEME
    # (the Pareto C accounts); 0 switches them off.
    "SAMPLE_CALL_SCHEME": "pareto-abc",
    "SAMPLE_CALL_TIERS": "C",
    "SAMPLE_CALLS_PER_OWNER": 5,
    # Overdue accounts listed on the compliance page's drill-down.
    "COMPLIANCE_OVERDUE_ROWS": 100,
    # Relationship stages: months after signing at which 稳定合作期, 深度绑定期 and 价值共生期 begin.
    "STAGE_STABLE_AFTER_MONTHS": 3,
    "STAGE_DEEP_AFTER_MONTHS": 12,
    "STAGE_SYMBIOSIS_AFTER_MONTHS": 36,
    # Playbooks: repeating steps get tasks this many days ahead (the nightly run rolls on);
    # steps that fell due more than PLAYBOOK_PAST_DAYS ago get none (a late-entered account
    # does not start with a pile of overdue tasks).
    "PLAYBOOK_HORIZON_DAYS": 120,
    "PLAYBOOK_PAST_DAYS": 14,
    # Visit plans: visits a person makes in a day at most; days kept between two visits to
    # one account (fewer when the month is too short for its visits); visits a month for a
    # key account whose tier has no service standard.
    "PLAN_DAILY_MAX_VISITS": 4,
    "PLAN_MIN_GAP_DAYS": 7,
    "PLAN_KEY_ACCOUNT_VISITS_PER_MONTH": 1,
    # Staffing (客户经理配备): hours one visit, call and value report take (with travel and
    # write-up), hours one manager has for accounts a year.
    "STAFFING_HOURS_PER_VISIT": "4",
    "STAFFING_HOURS_PER_CALL": "0.5",
    "STAFFING_HOURS_PER_REPORT": "8",
    "STAFFING_HOURS_PER_MANAGER_YEAR": "1600",
    # Beyond the tier counts ("并不妥" alone): the share of a standard load one manager of the
    # team carries (grade), the share of support hours back office and technical staff carry,
    # a margin for demand peaks, the share of accounts expected to leave next year.
    "STAFFING_GRADE": "1",
    "STAFFING_SUPPORT_SHARE": "0.5",
    "STAFFING_PEAK_SHARE": "0.1",
    "STAFFING_CHURN_SHARE": "0.05",
    # Leads: hours the assignee has to record a follow-up; past them the lead escalates to
    # the assignee's manager, and LEAD_REASSIGN_HOURS later it goes to someone else.
    "LEAD_FOLLOW_UP_HOURS": 24,
    "LEAD_REASSIGN_HOURS": 24,
    # Public pool (公海): days without a follow-up after which an account returns to the pool,
    # per tier where set ("A+:60,A:45", tiers of CADENCE_SCHEME); tiers never returned (the key
    # accounts by default); the notice to the owner this many days before; accounts one person
    # may hold from the pool.
    "POOL_IDLE_DAYS": 30,
    "POOL_IDLE_DAYS_BY_TIER": "",
    "POOL_EXCLUDED_TIERS": "K6,K5,K4,K3,K2,K1",
    "POOL_NOTICE_DAYS": 3,
    "POOL_CLAIM_LIMIT": 20,
    # Opportunities: the probability (%) of each stage, for the weighted pipeline.
    "OPPORTUNITY_STAGE_PROBABILITIES": "contact:10,design:30,review:50,tender:70,won:100,lost:0",
    # Deal reviews: the smallest intended amount that may be submitted; the general manager
    # may send items at or above REVIEW_SENIOR_AMOUNT to a senior review. With
    # REVIEW_SENIOR_AFTER_DAYS above 0 such items still undecided that many days after
    # submission also escalate by themselves (0: only the general manager sends them).
    "REVIEW_MIN_AMOUNT": "10000",
    "REVIEW_SENIOR_AMOUNT": "100000",
    "REVIEW_SENIOR_AFTER_DAYS": 0,
    # Days after a review decision its follow-up task falls due.
    "REVIEW_FOLLOW_UP_DAYS": 7,
    # Customer-base models: the count model fitted nightly (bgnbd or paretonbd), the period
    # purchases are counted in (week or month), the months of revenue facts a fit reads, the
    # forecast horizon (months) shown as expected purchases and value, and the lifetime value's
    # horizon and monthly discount rate.
    "INSIGHT_COUNT_MODEL": "bgnbd",
    "INSIGHT_PERIOD": "week",
    "INSIGHT_HISTORY_MONTHS": 36,
    "INSIGHT_HORIZON_MONTHS": 12,
    "INSIGHT_CLV_MONTHS": 36,
    "INSIGHT_MONTHLY_DISCOUNT": "0.01",
    # Churn: the months whose monthly average is the baseline of an account that stopped
    # buying or moved to a competitor; the months of revenue that make an account part of a
    # period's active base (the denominator of the churn rates).
    "CHURN_BASELINE_MONTHS": 12,
    "CHURN_ACTIVE_MONTHS": 12,
    # Health score (0–100): the weight of each part; a part an account gives nothing to judge
    # by is left out and the others share its weight.
    "HEALTH_WEIGHTS": "cadence:20,chain:15,trend:20,alive:20,payment:15,warnings:10",
    # Points the open-warnings part loses per open warning of each severity; the scores from
    # which health shows green and yellow (below: red).
    "HEALTH_WARNING_PENALTY": "high:40,medium:20,low:10",
    "HEALTH_BANDS": "70,40",
    # Early warning: days after a warning opens its task falls due.
    "WARNING_TASK_DUE_DAYS": 3,
    # Days after a retention action closed a warning during which the same rule does not
    # reopen on that account (the condition takes a while to change).
    "WARNING_QUIET_DAYS": 30,
    # Read models: the figures pages aggregate come from summary tables kept current by the
    # services that change the facts (0: computed from the raw facts on every request, the
    # benchmarks' baseline).
    "READ_MODELS": True,
    "DEMO_PASSWORD": os.environ.get("KAM_DEMO_PASSWORD", "kam-demo-2026"),
}
# KAM_<KEY> in the environment replaces a default as text; kam.core.conf.config() types and
# checks every value once (a bad one stops `kam` commands and the server with one line).
for _key in list(KAM):
    if (_raw := os.environ.get(f"KAM_{_key}")) is not None and _key != "DEMO_PASSWORD":
        KAM[_key] = _raw
