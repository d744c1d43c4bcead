"""``web.yaml``: where the programme office keeps its data and how it runs (docs/web.md).

Every field has a default, so ``daulat web`` runs with no file at all (SQLite under the
data directory, the Indonesian demo programme seeded on first start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from daulat.errors import UserError
from daulat.yamlio import load_model

__all__ = ["JobsConfig", "LoginConfig", "ServerConfig", "StoreConfig", "WebConfig", "load_config"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StoreConfig(_Model):
    """The database: the gateway's store (same URL), tables of its own."""

    url: str | None = Field(default=None, description="sqlite:///PATH or postgresql://USER@HOST/DB")
    data_dir: Path | None = Field(default=None, description="directory of the default SQLite "
                                  "store and of plan outputs")
    db_schema: str | None = Field(default=None, alias="schema", description="PostgreSQL schema")


class ServerConfig(_Model):
    """Where uvicorn listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8600, ge=1, le=65535)


class LoginConfig(_Model):
    """Login throttling and sessions."""

    max_failures: int = Field(default=5, ge=1, description="failed logins per user within "
                              "window_s before that user's logins are refused")
    max_failures_per_address: int = Field(default=50, ge=1, description="failed logins from "
                                          "one address within window_s before logins from "
                                          "it are refused")
    window_s: float = Field(default=900.0, gt=0)
    session_hours: float = Field(default=12.0, gt=0)
    secure_cookies: bool = Field(default=True, description="send the session cookie over HTTPS "
                                 "only (browsers also accept it on http://localhost)")
    secret_key_file: Path | None = Field(default=None, description="file holding the key that "
                                         "signs session cookies (default: created in data_dir)")


class JobsConfig(_Model):
    """Where plan jobs run: a local process pool, or a Ray cluster."""

    backend: Literal["local", "ray"] = "local"
    workers: int = Field(default=2, ge=1)
    ray_address: str | None = Field(default=None, description="ray://HOST:10001 or auto")


class WebConfig(_Model):
    """The whole ``web.yaml``."""

    store: StoreConfig = Field(default_factory=StoreConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    login: LoginConfig = Field(default_factory=LoginConfig)
    jobs: JobsConfig = Field(default_factory=JobsConfig)
    demo: bool = Field(default=True, description="seed the Indonesian demo programme when "
                       "the registry is empty")
    lang: Literal["en", "id"] = "en"


def load_config(path: Path | None) -> WebConfig:
    """Read and validate ``path`` (None: the defaults); every problem at once, each as
    ``file:line:col: field: value — what is valid`` (daulat.yamlio, the one YAML loader)."""
    if path is None:
        return WebConfig()
    if not path.exists():
        raise UserError(f"{path}: no such web config (format in docs/web.md)")
    cfg = load_model(path, WebConfig, what="web config", empty_ok=True)
    base = path.resolve().parent
    if cfg.store.data_dir is not None and not cfg.store.data_dir.is_absolute():
        cfg.store.data_dir = base / cfg.store.data_dir
    if cfg.login.secret_key_file is not None and not cfg.login.secret_key_file.is_absolute():
        cfg.login.secret_key_file = base / cfg.login.secret_key_file
    return cfg
