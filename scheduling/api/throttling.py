"""Brakes on guessing credentials through the API (docs/spec.md §6.8).

Each refused set of credentials counts one failure against the client's IP (scheduling.client_ip)
in the shared cache, so every worker and host counts together. From the limit on, a request from
that IP that carries credentials is answered 429 before they are checked: a locked-out client
learns nothing about the keys it tries. Successes are never counted.

Authenticated users' own rate is DRF's UserRateThrottle (`API_USER_RATE`, off by default).
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled

from scheduling.client_ip import client_ip


class FailedAuthentications:
    """The failed authentications of one client IP within the window.

    Read, then written back: two workers failing at the same instant may each miss the other's
    failure, which lets a client a few more tries at most (DRF's own throttles share this).
    """

    def __init__(self, request):
        self.key = f"api-auth-failures:{client_ip(request)}"
        self.window = settings.API_AUTH_FAILURE_WINDOW
        self.limit = settings.API_AUTH_FAILURE_LIMIT
        self.now = time.time()
        self.times = sorted(t for t in cache.get(self.key, []) if t > self.now - self.window)

    def retry_after(self) -> int | None:
        """Seconds until the count drops below the limit; None while it is below."""
        if len(self.times) < self.limit:
            return None
        must_expire = self.times[len(self.times) - self.limit]
        return max(1, math.ceil(must_expire + self.window - self.now))

    def record(self) -> None:
        self.times.append(self.now)
        cache.set(self.key, self.times, timeout=self.window)


class FailureBrake:
    """Mixed into a DRF authentication class: refuse locked-out IPs, count refused credentials."""

    def authenticate(self, request):
        if not get_authorization_header(request):
            return None  # no credentials: nothing guessed, and the 401 stays a 401
        failures = FailedAuthentications(request)
        wait = failures.retry_after()
        if wait is not None:
            raise Throttled(wait=wait, detail="Too many failed authentications from this address.")
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            failures.record()
            raise


class GuardedTokenAuthentication(FailureBrake, TokenAuthentication):
    """`Authorization: Token <key>`, with the brake."""
