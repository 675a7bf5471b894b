"""anymail's tracking webhooks, served only while they are secured (docs/spec.md §9.7).

anymail's own URLconf serves every ESP's webhooks to anyone when no secret is set, and answers 500
to many malformed posts. Here each tracking route is served only while the settings that let
anymail authenticate its posts exist (checked per request, so tests and a settings change need no
new URLconf), unauthenticated posts are refused before the body is read, and whatever anymail or
the receiver raises on a body becomes a 400.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.utils import get_anymail_setting, get_request_basic_auth
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.base import AnymailCoreWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailersend import MailerSendTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.mailjet import MailjetTrackingWebhookView
from anymail.webhooks.mailtrap import MailtrapTrackingWebhookView
from anymail.webhooks.mandrill import MandrillCombinedWebhookView
from anymail.webhooks.postal import PostalTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.resend import ResendTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from anymail.webhooks.unisender_go import UnisenderGoTrackingWebhookView
from django.contrib.auth.decorators import login_not_required
from django.core import checks
from django.db import InterfaceError, OperationalError, transaction
from django.http import Http404, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackingRoute:
    """One ESP's tracking webhook and what secures it.

    `signing_setting` is the ESP's own key (anymail's setting name without the ESP prefix; `bare`
    when anymail also reads it without the ANYMAIL prefix). When `signing_required`, anymail cannot
    check a post without that key, so the basic-auth secret alone does not serve the route.
    """

    view_class: type[AnymailCoreWebhookView]
    signing_setting: str | None = None
    signing_required: bool = False
    bare: bool = False

    def signing_key(self):
        if self.signing_setting is None:
            return None
        esp_name = self.view_class.esp_name
        return get_anymail_setting(self.signing_setting, esp_name=esp_name, default=None, allow_bare=self.bare) or None

    def secured(self) -> bool:
        if self.signing_required:
            return self.signing_key() is not None
        return bool(basic_auth_secrets()) or self.signing_key() is not None


TRACKING_ROUTES = {
    "amazon_ses": TrackingRoute(AmazonSESTrackingWebhookView),
    "brevo": TrackingRoute(BrevoTrackingWebhookView),
    "mailjet": TrackingRoute(MailjetTrackingWebhookView),
    "postmark": TrackingRoute(PostmarkTrackingWebhookView),
    "sparkpost": TrackingRoute(SparkPostTrackingWebhookView),
    "sendgrid": TrackingRoute(SendGridTrackingWebhookView, "tracking_webhook_verification_key", bare=True),
    "resend": TrackingRoute(ResendTrackingWebhookView, "signing_secret"),
    "mailtrap": TrackingRoute(MailtrapTrackingWebhookView, "tracking_secret"),
    "mailgun": TrackingRoute(MailgunTrackingWebhookView, "webhook_signing_key", signing_required=True),
    "mailersend": TrackingRoute(MailerSendTrackingWebhookView, "signing_secret", signing_required=True),
    "postal": TrackingRoute(PostalTrackingWebhookView, "webhook_key", signing_required=True, bare=True),
    "mandrill": TrackingRoute(MandrillCombinedWebhookView, "webhook_key", signing_required=True, bare=True),
    "unisender_go": TrackingRoute(UnisenderGoTrackingWebhookView, "api_key", signing_required=True, bare=True),
}


def basic_auth_secrets() -> list[str]:
    """anymail's WEBHOOK_SECRET: one `user:password` or a list of them (during a rotation)."""
    secret = get_anymail_setting("webhook_secret", default=None)
    secrets = [secret] if isinstance(secret, str) else list(secret or [])
    return [value for value in secrets if value]


def _basic_auth_ok(request, secrets: list[str]) -> bool:
    given = get_request_basic_auth(request) or ""
    return any(constant_time_compare(given, secret) for secret in secrets)


def _answer(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def tracking_view(route: TrackingRoute):
    anymail_view = route.view_class.as_view()

    @csrf_exempt  # ESPs post without a CSRF token; they authenticate as below
    @login_not_required
    def view(request, *args, **kwargs):
        if not route.secured():
            raise Http404("This tracking webhook is not configured.")
        secrets = basic_auth_secrets()
        if secrets and not _basic_auth_ok(request, secrets):
            response = _answer(401, "Missing or invalid basic auth.")
            response["WWW-Authenticate"] = 'Basic realm="anymail"'
            return response
        try:
            # One post, one transaction: a body that fails halfway leaves none of its events.
            with transaction.atomic():
                return anymail_view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure:
            return _answer(403, "Webhook signature check failed.")
        except (OperationalError, InterfaceError):
            raise  # the database, not the body: a 5xx makes the ESP retry
        except Exception:
            # Anything else came from the body (anymail's parsers raise whatever their input
            # provokes); a 500 would only make the ESP send it again.
            logger.warning("Refused an anymail %s tracking post", route.view_class.esp_name, exc_info=True)
            return _answer(400, "The webhook body could not be processed.")

    return view


app_name = "anymail"  # anymail's URL names, so reverse("anymail:postmark_tracking_webhook") holds
urlpatterns = [
    path(f"{esp}/tracking/", tracking_view(route), name=f"{esp}_tracking_webhook") for esp, route in TRACKING_ROUTES.items()
]


@checks.register(checks.Tags.security, deploy=True)
def check_unguarded_webhooks(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """anymail's views mounted directly (`include("anymail.urls")`) answer anyone when no secret is set."""
    unguarded = [route for route in _url_patterns(get_resolver().url_patterns, "") if route[1] is not None]
    return [
        checks.Warning(
            f"The anymail webhook /{route} is mounted without scheduling.webhooks' guard "
            f"({view_class.__name__}); it is open to anyone while no webhook secret is set.",
            hint='Mount anymail through path("anymail/", include("scheduling.webhooks")) (docs/spec.md §9.7).',
            id="scheduling.W001",
        )
        for route, view_class in unguarded
    ]


def _url_patterns(patterns, prefix: str):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "view_class", None)
            is_anymail = isinstance(view_class, type) and issubclass(view_class, AnymailCoreWebhookView)
            yield prefix + str(pattern.pattern), view_class if is_anymail else None
