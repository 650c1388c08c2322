"""Configuration from environment variables, with safe development defaults."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
DEV_SECRET_KEY = "dev-only-insecure-secret-key"
#: the values MARKET_ENV may take; anything else stops the app (a typo must not mean "development")
MARKET_ENVS = ("development", "production")


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete."""


def from_env(env: dict[str, str] | None = None) -> dict[str, object]:
    """Build the Flask config mapping from environment variables."""
    env = dict(os.environ if env is None else env)
    raw_env = env.get("MARKET_ENV", "development")
    # " Production " means production; an unknown value is kept as typed, for `check` to refuse and show.
    market_env = raw_env.strip().lower() if raw_env.strip().lower() in MARKET_ENVS else raw_env
    production = market_env == "production"
    instance = Path(env.get("INSTANCE_PATH") or INSTANCE)
    return {
        #: the instance folder: the embedded database and indexes, uploads, the worker's doorbell
        "INSTANCE_PATH": str(instance),
        "MARKET_ENV": market_env,
        "SECRET_KEY": env.get("SECRET_KEY", "" if production else DEV_SECRET_KEY),
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{instance / 'market.sqlite3'}"),
        #: seconds a write waits for the embedded database's write lock before answering 503
        "DB_BUSY_TIMEOUT": float(env.get("DB_BUSY_TIMEOUT", "10")),
        # Embedded FTS5 index file unless MEILI_URL names a Meilisearch server.
        "SEARCH_PATH": env.get("SEARCH_PATH", str(instance / "search.sqlite3")),
        # Result pages the embedded engine keeps per process until the index changes (0: none;
        # about 40 KB each with 20 hits and all facets, so 512 is about 20 MB per process).
        "SEARCH_RESULT_CACHE": int(env.get("SEARCH_RESULT_CACHE", "512")),
        #: how often the worker checks that the search index is there and readable (rebuilding it if not)
        "SEARCH_CHECK_SECONDS": float(env.get("SEARCH_CHECK_SECONDS", "15")),
        "MEILI_URL": env.get("MEILI_URL", ""),
        "MEILI_MASTER_KEY": env.get("MEILI_MASTER_KEY", ""),
        "MEILI_INDEX": env.get("MEILI_INDEX", "listings"),
        #: the per-listing match state (matching.store), kept by the worker
        "MATCH_STORE_PATH": env.get("MATCH_STORE_PATH", str(instance / "matching.sqlite3")),
        #: the ranker learnt from decisions (`flask match learn`); used only while it is not worse
        "MATCH_LEARNED_PATH": env.get("MATCH_LEARNED_PATH", str(instance / "matching-learned.json")),
        #: refit the matcher's vocabulary when the library grew or shrank by this share since the last fit
        "MATCH_REFIT_GROWTH": float(env.get("MATCH_REFIT_GROWTH", "0.25")),
        #: worker processes a full match rebuild may use
        "MATCH_JOBS": int(env.get("MATCH_JOBS", "1")),
        #: the worker's poll when no doorbell rings (a change normally wakes it at once)
        "OUTBOX_POLL_SECONDS": float(env.get("OUTBOX_POLL_SECONDS", "1.0")),
        # `flask serve` waits this long for its worker to warm up before it accepts requests
        "WORKER_START_WAIT": float(env.get("WORKER_START_WAIT", "15")),
        "UPLOAD_DIR": env.get("UPLOAD_DIR", str(instance / "uploads")),
        #: where stored files go: "file" (UPLOAD_DIR, the default), "s3" (an S3-compatible bucket: S3_BUCKET,
        #: S3_ENDPOINT_URL for MinIO/OSS/COS-style services, S3_REGION, S3_PREFIX; credentials from
        #: S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY, else boto3's standard chain), or "memory" (tests)
        "STORAGE": env.get("STORAGE", "file"),
        "S3_BUCKET": env.get("S3_BUCKET", ""),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL", ""),
        "S3_REGION": env.get("S3_REGION", ""),
        "S3_PREFIX": env.get("S3_PREFIX", ""),
        "S3_ACCESS_KEY_ID": env.get("S3_ACCESS_KEY_ID", ""),
        "S3_SECRET_ACCESS_KEY": env.get("S3_SECRET_ACCESS_KEY", ""),
        #: PDF attachments of a listing: how many, and how large each (below MAX_CONTENT_LENGTH)
        "LISTING_FILES_MAX": int(env.get("LISTING_FILES_MAX", "5")),
        "LISTING_FILE_MAX_BYTES": int(env.get("LISTING_FILE_MAX_BYTES", str(8 * 1024 * 1024))),
        # Shared storage makes the login limits hold across worker processes; memory:// is per process.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL") or "memory://",
        "RATELIMIT_LOGIN_IP": env.get("RATELIMIT_LOGIN_IP", "30 per minute"),
        "RATELIMIT_LOGIN_ACCOUNT": env.get("RATELIMIT_LOGIN_ACCOUNT", "5 per minute"),
        "RATELIMIT_REGISTER_IP": env.get("RATELIMIT_REGISTER_IP", "10 per hour"),
        #: asking for a password-reset mail, per address and per IP (every request counts: each sends mail)
        "RATELIMIT_RESET_ACCOUNT": env.get("RATELIMIT_RESET_ACCOUNT", "3 per hour"),
        "RATELIMIT_RESET_IP": env.get("RATELIMIT_RESET_IP", "20 per hour"),
        #: seconds a password-reset link works
        "PASSWORD_RESET_MAX_AGE": int(env.get("PASSWORD_RESET_MAX_AGE", "3600")),
        #: the SMTP server the worker sends through (smtp://host:port, smtps://user:pass@host:465,
        #: smtp+starttls://…); empty: mail is queued but not sent (MAIL_HOOK is the old name)
        "MAIL_URL": env.get("MAIL_URL", env.get("MAIL_HOOK", "")),
        "MAIL_FROM": env.get("MAIL_FROM", "noreply@localhost"),
        #: how members reach the platform's operators (the verification help page shows it)
        "OPERATOR_CONTACT": env.get(
            "OPERATOR_CONTACT",
            "平台运营部：电话 022-2345 6789（工作日 9:00–17:00），邮箱 ops@kjcg.example.cn",
        ),
        #: the site's public address, for links in mail
        "SITE_URL": env.get("SITE_URL", "http://127.0.0.1:5000"),
        #: 互联互通: this platform's name and identifier prefix in the harvest feed, how often the worker
        #: harvests partners, and the back-off after a failed harvest (doubling up to the maximum)
        "FEDERATION_NAME": env.get("FEDERATION_NAME", "天津科技成果转化交易平台"),
        "FEDERATION_PREFIX": env.get("FEDERATION_PREFIX", "TJ"),
        "FEDERATION_HARVEST_SECONDS": float(env.get("FEDERATION_HARVEST_SECONDS", "60")),
        "FEDERATION_BACKOFF_SECONDS": float(env.get("FEDERATION_BACKOFF_SECONDS", "30")),
        "FEDERATION_BACKOFF_MAX": float(env.get("FEDERATION_BACKOFF_MAX", "3600")),
        # introduction requests to partners: the worker's turn, and how often it asks for the answer
        "FEDERATION_INTRO_SECONDS": float(env.get("FEDERATION_INTRO_SECONDS", "10")),
        "FEDERATION_INTRO_POLL_SECONDS": float(env.get("FEDERATION_INTRO_POLL_SECONDS", "600")),
        #: how often the worker runs saved searches for new listings and mails due digests
        "ALERT_CHECK_SECONDS": float(env.get("ALERT_CHECK_SECONDS", "60")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        #: the footer marks the data as 演示数据: "auto" when the demo accounts exist, "1" always, "0" never
        "DEMO_DATA": env.get("DEMO_DATA", "auto"),
        "IMPORT_MAX_BYTES": int(env.get("IMPORT_MAX_BYTES", str(5 * 1024 * 1024))),
        "IMPORT_MAX_ROWS": int(env.get("IMPORT_MAX_ROWS", "5000")),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(10 * 1024 * 1024))),
        "BOOTSTRAP_SERVE_LOCAL": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "JSON_AS_ASCII": False,
    }


def check(config: dict[str, object]) -> None:
    """Refuse an unknown MARKET_ENV, and production with a missing or default secret key."""
    market_env = config.get("MARKET_ENV")
    if market_env not in MARKET_ENVS:
        raise ConfigError(
            f"MARKET_ENV 的取值“{market_env}”无效：只能是 development（开发，未设置时的默认值）"
            "或 production（生产）。请检查环境变量的拼写；拼错的值不会被当作开发环境运行。"
        )
    if market_env == "production":
        key = str(config.get("SECRET_KEY") or "")
        if not key or key == DEV_SECRET_KEY or len(key) < 32:
            raise ConfigError("生产环境必须设置 SECRET_KEY（至少 32 个字符，且不能是开发默认值）")
