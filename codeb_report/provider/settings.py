"""The ``[vultr]`` table: reading the Vultr account turns the provider view on.

    [vultr]
    # api_key_env = "CODEB_VULTR_KEY"          # or api_key_file = "/etc/codeb-report/vultr-key"
    # base_url = "https://api.vultr.com/v2"    # a proxy, or a test server
    # deadline = 60                            # seconds for the whole account
    # headroom_percent = 30                    # right-sizing keeps this much free

The key itself is never written here: see ``codeb_report.provider.key`` for where it is
looked up, in which order.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from codeb_report.validation import http_url

DEFAULT_BASE_URL = "https://api.vultr.com/v2"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Seconds = Annotated[float, Strict(), Field(gt=0, le=3600)]


class VultrSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    base_url: str = DEFAULT_BASE_URL
    api_key_env: str | None = None  # a variable holding the key (VULTR_API_KEY always wins)
    api_key_file: str | None = None  # a file whose first line is the key (mode 600)
    connect_timeout: Seconds = 10.0
    read_timeout: Seconds = 30.0
    # Everything (all pages, retries, waits) must finish within this many seconds.
    deadline: Seconds = 60.0
    per_page: Annotated[int, Strict(), Field(ge=1, le=500)] = 500
    max_pages: Annotated[int, Strict(), Field(ge=1, le=1000)] = 50
    # Attempts per request: 429, 5xx (not 501) and dropped connections are retried.
    attempts: Annotated[int, Strict(), Field(ge=1, le=10)] = 4
    # Right-sizing: the recommended plan must leave this share of memory, vCPU and disk free
    # at the highest use seen.
    headroom_percent: Annotated[float, Field(ge=0, le=90)] = 30.0

    @model_validator(mode="before")
    @classmethod
    def _no_key_here(cls, data: Any) -> Any:
        if isinstance(data, dict) and {"api_key", "api-key", "key"} & set(data):
            raise ValueError(
                "the API key is never written into this file: set VULTR_API_KEY, "
                "api_key_env or api_key_file"
            )
        return data

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(
            value, DEFAULT_BASE_URL, "the key comes from VULTR_API_KEY, api_key_env or api_key_file"
        )

    @field_validator("api_key_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> VultrSettings:
        if self.api_key_env and self.api_key_file:
            raise ValueError("set api_key_env or api_key_file, not both")
        return self
