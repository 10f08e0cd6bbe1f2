"""Bounded retries for device transactions: every real driver retries the same way and counts it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from xlsdk.errors import DriverError

T = TypeVar("T")


class RetryPolicy(BaseModel):
    """How hard a driver tries before it reports a fault: ``attempts`` tries, ``backoff_s`` apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    attempts: int = Field(3, ge=1, le=20)
    backoff_s: float = Field(0.002, ge=0.0)


def with_retries(action: Callable[[], T], *, policy: RetryPolicy, what: str, on_retry: Callable[[Exception], None],
                 retry_on: tuple[type[BaseException], ...] = (DriverError, OSError, TimeoutError)) -> T:
    """Run ``action`` up to ``policy.attempts`` times; after the last failure raise one DriverError saying so."""
    last: BaseException | None = None
    for attempt in range(policy.attempts):
        try:
            return action()
        except retry_on as exc:
            last = exc
            if attempt + 1 < policy.attempts:
                on_retry(exc)
                if policy.backoff_s:
                    time.sleep(policy.backoff_s * (attempt + 1))
    raise DriverError(f"{what} failed {policy.attempts} times: {last}",
                      hint="check the cable/port and the device's power, then reconnect") from None
