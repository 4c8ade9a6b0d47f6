"""Every setting of Beeldbank, read once from the environment (prefix ``DAM_``)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "development-only-secret"}


class SettingsError(Exception):
    """The environment holds invalid settings; the message lists every problem."""


class Settings(BaseSettings):
    """Beeldbank's configuration. Each field is documented in README.md (a test checks)."""

    model_config = SettingsConfigDict(env_prefix="DAM_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development", description="`production` refuses placeholder secrets."
    )
    data_dir: Path = Field(Path("data"), description="Everything stored on disk.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default SQLite file `beeldbank.db` in the data dir."
    )
    queue_url: str | None = Field(
        None,
        description="`redis://...` for a shared queue, `immediate://` to run jobs inline "
        "(tests); default a SQLite queue in the data dir.",
    )
    search_url: str | None = Field(
        None, description="Meilisearch URL; default the embedded Tantivy index in the data dir."
    )
    search_api_key: str | None = Field(None, description="Meilisearch API key.")
    search_index: str = Field(
        "assets", pattern=r"^[A-Za-z0-9_-]{1,100}$", description="Meilisearch index name."
    )
    search_commit_interval_ms: int = Field(
        200,
        ge=0,
        le=800,
        description="How long the index writer gathers changes into one commit (the index "
        "follows the database within a second).",
    )
    secret_key: str = Field(
        "development-only-secret", description="Signs sessions and share links."
    )
    max_upload_bytes: int = Field(
        20 * 1024**3,
        gt=0,
        description="Largest accepted upload in bytes; larger files are refused.",
    )
    max_image_pixels: int = Field(
        200_000_000,
        gt=0,
        description="Largest accepted image in pixels (decompression-bomb guard).",
    )
    upload_expiry_hours: int = Field(
        24, gt=0, description="Abandoned resumable uploads are removed after this many hours."
    )
    workers: int = Field(2, ge=0, description="Job consumer threads in `dam serve`/`dam worker`.")
    job_stale_after_s: int = Field(
        600, gt=0, description="A running job without a heartbeat for this long is re-run."
    )
    sweep_interval_s: int = Field(
        60, gt=0, description="How often the sweeper looks for unfinished work."
    )
    job_memory_mb: int | None = Field(
        None,
        gt=0,
        description="Memory the image and video jobs of one process may use together, in "
        "MB; a job waits until its estimated share is free, and one that needs more fails. "
        "Default: 1280 (or half of the machine's memory, or of the container's limit, if "
        "that is less), and a job that needs more runs alone, up to half of the memory.",
    )
    min_free_mb: int = Field(
        500,
        ge=0,
        description="Free space the data directory keeps, in MB: uploads that would go "
        "below it are refused (507) and /readyz reports storage as failing.",
    )
    similar_max_distance: int = Field(
        3,
        ge=0,
        le=3,
        description="Perceptual-hash bit distance for a 'similar asset' hint (at most 3: "
        "the index finds every hash within 3 bits).",
    )
    default_timezone: str = Field(
        "Europe/Brussels", description="Zone assumed for capture times without an offset."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`json`: one JSON object per log line, with request id, route template, "
        "status and duration for every request (never names or file names).",
    )
    metrics_allow: str = Field(
        "",
        description="Comma-separated IP addresses and CIDR networks that may read /metrics "
        "without a token (a Prometheus server); others need a token with `metrics.read`.",
    )
    face_key: str | None = Field(
        None,
        description="Base64 of 32 random bytes: encrypts face embeddings (biometric data). "
        "Required in production; development derives one from the secret key.",
    )
    face_detection: bool = Field(
        True,
        description="Detect faces on ingest; false skips the faces stage (then no photo "
        "can be checked for the people in it).",
    )
    face_recognition: bool = Field(
        True, description="Compute embeddings and recognise people; false: detection only."
    )
    face_min_size_px: int = Field(
        20, ge=12, description="Smallest face to find, in pixels of the original photo."
    )
    face_max_edge_px: int = Field(
        2560,
        ge=640,
        description="Photos are searched for faces at most this long (bigger ones are "
        "scaled down first; the smallest face found grows accordingly). At 2560 the "
        "faces stage reads the large rendition instead of decoding the original again.",
    )
    face_whole_frame_px: int = Field(
        100,
        ge=12,
        description="Faces from this size up (pixels of the original photo) are looked for "
        "over the whole photo; smaller ones, down to DAM_FACE_MIN_SIZE_PX, only where "
        "skin colours make a face possible.",
    )

    channels: str = Field(
        "internal,intranet,website,social,print,press",
        pattern=r"^[a-z][a-z0-9_-]{0,31}(,[a-z][a-z0-9_-]{0,31})*$",
        description="Publication channels a verdict is given for, comma-separated.",
    )
    alt_text_channels: str = Field(
        "website,social",
        pattern=r"^([a-z][a-z0-9_-]{0,31}(,[a-z][a-z0-9_-]{0,31})*)?$",
        description="Channels on which an asset without alt text is blocked.",
    )
    import_roots: str = Field(
        "",
        description="Folders the server may import archives from (comma-separated absolute "
        "paths); administrators pick a folder under one of them on the import page.",
    )
    licence_channels: str = Field(
        "website,social,print,press",
        pattern=r"^([a-z][a-z0-9_-]{0,31}(,[a-z][a-z0-9_-]{0,31})*)?$",
        description="Channels that leave the organisation: an asset whose licence is "
        "unknown (neither own work nor licensed) needs review before it goes there.",
    )
    banner_size: str = Field(
        "1920x600",
        pattern=r"^[0-9]{2,5}x[0-9]{2,5}$",
        description="Size of the `banner` download preset, WIDTHxHEIGHT in pixels.",
    )
    gps_channels: str = Field(
        "",
        pattern=r"^([a-z][a-z0-9_-]{0,31}(,[a-z][a-z0-9_-]{0,31})*)?$",
        description="Channels whose downloads keep the GPS position; none by default.",
    )
    download_zip_max_assets: int = Field(
        500, ge=1, le=5000, description="Most assets one ZIP download may hold."
    )
    consent_notice_days: int = Field(
        30,
        ge=1,
        le=365,
        description="Privacy officers are told this many days before a consent ends.",
    )
    retention_cluster_days: int = Field(
        180,
        ge=1,
        description="Embeddings of faces nobody named are deleted after this many days.",
    )
    retention_person_days: int = Field(
        365,
        ge=1,
        description="A person without a valid consent and without confirmed faces for this "
        "many days is proposed for erasure.",
    )
    smtp_url: str | None = Field(
        None,
        description="`smtp://[user:password@]host:port` (or `smtps://`, or `smtp+starttls://`) "
        "for e-mail notices to privacy officers; none: in-app notices only.",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        pattern=r"^https?://[^/?#]+(/[^?#]*)?$",
        description="The address people reach Beeldbank at (links in e-mails).",
    )
    mail_from: str = Field(
        "beeldbank@localhost", max_length=320, description="Sender of e-mail notices."
    )
    local_login: bool = Field(
        True,
        description="Log in with an e-mail address and password; false leaves single "
        "sign-on only, except for break-glass administrators (`dam user break-glass`).",
    )
    oidc_issuer: str | None = Field(
        None,
        pattern=r"^https?://[^/?#]+(/[^?#]*)?$",
        description="OpenID Connect issuer URL (discovery at "
        "`/.well-known/openid-configuration`); none: no single sign-on.",
    )
    oidc_client_id: str | None = Field(
        None, max_length=255, description="Beeldbank's client id at the OpenID Provider."
    )
    oidc_client_secret: str | None = Field(
        None, description="Beeldbank's client secret at the OpenID Provider."
    )
    oidc_name: str = Field(
        "",
        max_length=60,
        description="The identity provider's name on the login button (\"Aanmelden met "
        "...\"); default the issuer's host.",
    )
    oidc_scopes: str = Field(
        "openid email profile",
        pattern=r"^openid( [\x21-\x7e]+)*$",
        description="Scopes asked for, space-separated, starting with `openid`.",
    )
    oidc_role_claim: str = Field(
        "groups",
        pattern=r"^[A-Za-z0-9_:./-]{1,100}$",
        description="The claim (ID token or userinfo) whose values decide the role; a "
        "dotted path reaches into objects (`realm_access.roles` for Keycloak).",
    )
    oidc_role_map: str = Field(
        "",
        description="`claim value=role` pairs, comma-separated (`beeldbank-admins=admin,"
        "beeldbank-editors=creative`); the highest matching role wins, at every login.",
    )
    oidc_default_role: Literal["viewer", "creative", "privacy_officer", "admin", "none"] = Field(
        "viewer",
        description="Role of a person none of whose claim values is mapped; `none` refuses them.",
    )
    erasure_ledger: Path | None = Field(
        None,
        description="The erasure ledger (person ids and dates, never names) that `dam restore` "
        "re-applies; default `erasure-ledger.jsonl` in the data dir. Keep it where a restore "
        "does not overwrite it.",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated IP addresses and CIDR networks of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; none by default.",
    )

    @field_validator("oidc_issuer", "oidc_client_id", "oidc_client_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # docker-compose passes an unset `${DAM_OIDC_ISSUER:-}` as an empty string.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("oidc_role_map")
    @classmethod
    def _role_map(cls, value: str) -> str:
        parse_role_map(value)  # raises ValueError naming the bad pair
        return value

    @model_validator(mode="after")
    def _sso_complete(self) -> Settings:
        oidc = (self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret)
        if any(oidc) and not all(oidc):
            raise ValueError(
                "DAM_OIDC_ISSUER, DAM_OIDC_CLIENT_ID and DAM_OIDC_CLIENT_SECRET go together"
            )
        if not self.local_login and not self.oidc_issuer:
            raise ValueError("DAM_LOCAL_LOGIN=false needs single sign-on (DAM_OIDC_ISSUER)")
        if (
            self.environment == "production"
            and self.oidc_issuer
            and not self.oidc_issuer.startswith("https://")
        ):
            raise ValueError("DAM_OIDC_ISSUER must be https:// in production")
        return self

    @property
    def sso_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def oidc_role_table(self) -> dict[str, str]:
        return parse_role_map(self.oidc_role_map)

    @property
    def oidc_display_name(self) -> str:
        if self.oidc_name:
            return self.oidc_name
        return urlsplit(self.oidc_issuer or "").hostname or ""

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def channel_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.channels.split(",")))

    @property
    def gps_channel_set(self) -> frozenset[str]:
        return frozenset(c for c in self.gps_channels.split(",") if c)

    @property
    def alt_text_channel_set(self) -> frozenset[str]:
        return frozenset(c for c in self.alt_text_channels.split(",") if c)

    @property
    def import_root_list(self) -> tuple[Path, ...]:
        return tuple(Path(p.strip()) for p in self.import_roots.split(",") if p.strip())

    @property
    def licence_channel_set(self) -> frozenset[str]:
        return frozenset(c for c in self.licence_channels.split(",") if c)

    @field_validator("queue_url")
    @classmethod
    def _queue_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "immediate://")):
            raise ValueError("must start with redis:// or immediate://")
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _proxies(cls, value: str) -> str:
        # Canonical networks: a typo must stop the start, not silently trust nobody (or
        # everybody); "10.0.0.1/8" becomes "10.0.0.0/8" as it would be read anyway.
        networks = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return ",".join(networks)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [item for item in self.trusted_proxies.split(",") if item]

    @property
    def metrics_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(item) for item in self.metrics_allow.split(",") if item]

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("environment") == "production" and value in PLACEHOLDER_SECRETS:
            raise ValueError("set a real secret in production (at least 32 random characters)")
        return value

    @field_validator("face_key")
    @classmethod
    def _face_key(cls, value: str | None) -> str | None:
        # A missing key is refused where embeddings are sealed (dam/biometrics.py), not
        # here: a deployment that only detects faces does not need one.
        if value is None or not value.strip():
            return None
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64") from None
        if len(raw) != 32:
            raise ValueError(f"must hold 32 bytes, not {len(raw)}")
        return value.strip()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'beeldbank.db'}"

    @property
    def job_memory_bytes(self) -> int:
        """The job memory budget in bytes: what the jobs of a process use together."""
        if self.job_memory_mb is not None:
            return self.job_memory_mb * 1024**2
        from dam.memory import default_budget_bytes

        return default_budget_bytes()

    @property
    def job_memory_limit_bytes(self) -> int:
        """The most one job may use (it then runs alone): the budget when it is set,
        else half of the memory."""
        if self.job_memory_mb is not None:
            return self.job_memory_mb * 1024**2
        from dam.memory import default_limit_bytes

        return default_limit_bytes()

    @property
    def min_free_bytes(self) -> int:
        return self.min_free_mb * 1024**2

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def erasure_ledger_path(self) -> Path:
        return (self.erasure_ledger or self.data_dir / "erasure-ledger.jsonl").expanduser()


ROLE_NAMES = ("viewer", "creative", "privacy_officer", "admin")


def parse_role_map(text: str) -> dict[str, str]:
    """`value=role,value=role` -> {value: role}; ValueError names the first bad pair."""
    table: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        value, sep, role = (piece.strip() for piece in item.rpartition("="))
        if not sep or not value:
            raise ValueError(f"{item!r} is not of the form claim-value=role")
        if role not in ROLE_NAMES:
            raise ValueError(f"{role!r} in {item!r} is not a role ({', '.join(ROLE_NAMES)})")
        table[value] = role
    return table


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings, raising one SettingsError that lists every problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            if not err["loc"]:  # a rule across settings names them in its message
                problems.append(f"  {err['msg'].removeprefix('Value error, ')}")
                continue
            name = "DAM_" + "_".join(str(p) for p in err["loc"]).upper()
            problems.append(f"  {name}: {err['msg']}")
        raise SettingsError("Invalid settings:\n" + "\n".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()
