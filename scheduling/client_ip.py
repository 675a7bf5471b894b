"""Who is knocking: the client's IP address, by one rule for the API throttles and the admin's lockout.

DRF's rule (`NUM_PROXIES`, docs/spec.md §6.8): `REMOTE_ADDR`, or behind N proxies the N-th address
from the right of `X-Forwarded-For` — the one the nearest trusted proxy saw. With no proxy a
client-sent `X-Forwarded-For` is ignored, so a client cannot make each guess look like a new one.
"""

from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str:
    # get_ident reads only request.META, so a plain Django request (django-axes) does as well as DRF's.
    return BaseThrottle().get_ident(request) or ""
