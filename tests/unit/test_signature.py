"""The webhook signature: computed as documented, and a verifier that fails closed."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from events_async.errors import EventsError, SignatureError, WebhookError
from events_async.webhooks import body_sha256, signature_for, signed_url, verify_delivery
from events_async.webhooks.signature import url_forms

TOKEN = "12345"
SECONDARY = "67890"
BODY = b'[{"specversion":"1.0","type":"com.twilio.eventstreams.test-event","id":"1"}]'
DESTINATION = "https://mycompany.example/events"


def documented_signature(token: str, url: str) -> str:
    """Twilio's algorithm, written out here from its documentation, not from the library."""
    mac = hmac.new(token.encode(), url.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def delivered(destination: str = DESTINATION, body: bytes = BODY) -> str:
    return (
        destination
        + ("&" if "?" in destination else "?")
        + "bodySHA256="
        + (hashlib.sha256(body).hexdigest())
    )


def test_the_computed_vector_matches_the_documented_algorithm() -> None:
    url = delivered()
    assert body_sha256(BODY) == hashlib.sha256(BODY).hexdigest()
    assert signed_url(DESTINATION, BODY) == url
    assert signature_for(TOKEN, url) == documented_signature(TOKEN, url)
    verify_delivery(url=url, body=BODY, signature=documented_signature(TOKEN, url), tokens=[TOKEN])


def test_fixed_vectors() -> None:
    # computed once with `openssl`-equivalent HMAC-SHA1 and SHA-256, and written down
    url = "https://mycompany.example/events?bodySHA256=" + "0" * 64
    assert signature_for(TOKEN, url) == "l9fZuZITCxX1aWhBqYz4loFYn6M="
    assert body_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_the_error_is_in_the_librarys_tree() -> None:
    assert issubclass(SignatureError, WebhookError)
    assert issubclass(WebhookError, EventsError)


ACCEPTED = [
    # (signed URL, delivered URL, tokens the receiver knows, signing token)
    ("plain", delivered(), delivered(), [TOKEN], TOKEN),
    (
        "other query parameters",
        delivered(DESTINATION + "?sink=orders&x=1"),
        delivered(DESTINATION + "?sink=orders&x=1"),
        [TOKEN],
        TOKEN,
    ),
    (
        "signed with :443, received without",
        delivered("https://mycompany.example:443/events"),
        delivered(),
        [TOKEN],
        TOKEN,
    ),
    (
        "signed without :443, received with",
        delivered(),
        delivered("https://mycompany.example:443/events"),
        [TOKEN],
        TOKEN,
    ),
    (
        "http and :80",
        delivered("http://mycompany.example:80/events"),
        delivered("http://mycompany.example/events"),
        [TOKEN],
        TOKEN,
    ),
    ("rotation: the secondary signed", delivered(), delivered(), [TOKEN, SECONDARY], SECONDARY),
    ("rotation: the primary signed", delivered(), delivered(), [TOKEN, SECONDARY], TOKEN),
]


@pytest.mark.parametrize(
    ("signed", "received", "tokens", "signer"),
    [case[1:] for case in ACCEPTED],
    ids=[case[0] for case in ACCEPTED],
)
def test_genuine_deliveries_verify(
    signed: str, received: str, tokens: list[str], signer: str
) -> None:
    verify_delivery(
        url=received, body=BODY, signature=documented_signature(signer, signed), tokens=tokens
    )


FORGED = BODY.replace(b'"1"', b'"2"')
REFUSED = [
    # (delivered URL, body, signature, tokens, the message's gist)
    ("no signature", delivered(), BODY, None, [TOKEN], "no X-Twilio-Signature"),
    ("an empty signature", delivered(), BODY, "", [TOKEN], "no X-Twilio-Signature"),
    (
        "a captured signature replayed with a forged body",
        delivered(),
        FORGED,
        documented_signature(TOKEN, delivered()),
        [TOKEN],
        "does not match the URL's bodySHA256",
    ),
    (
        "a forged body with its own hash and the old signature",
        delivered(body=FORGED),
        FORGED,
        documented_signature(TOKEN, delivered()),
        [TOKEN],
        "does not match this URL",
    ),
    (
        "no bodySHA256",
        DESTINATION,
        BODY,
        documented_signature(TOKEN, DESTINATION),
        [TOKEN],
        "has no bodySHA256",
    ),
    (
        "two bodySHA256",
        delivered() + "&bodySHA256=" + body_sha256(BODY),
        BODY,
        documented_signature(TOKEN, delivered() + "&bodySHA256=" + body_sha256(BODY)),
        [TOKEN],
        "more than one",
    ),
    (
        "the wrong token",
        delivered(),
        BODY,
        documented_signature("not-the-token", delivered()),
        [TOKEN],
        "does not match this URL",
    ),
    (
        "the old token after rotation",
        delivered(),
        BODY,
        documented_signature(SECONDARY, delivered()),
        [TOKEN],
        "does not match this URL",
    ),
    (
        "another path",
        delivered("https://mycompany.example/other"),
        BODY,
        documented_signature(TOKEN, delivered()),
        [TOKEN],
        "does not match this URL",
    ),
    (
        "a non-default port is not a variant",
        delivered("https://mycompany.example:8443/events"),
        BODY,
        documented_signature(TOKEN, delivered()),
        [TOKEN],
        "does not match this URL",
    ),
    (
        "a signature with non-ASCII text",
        delivered(),
        BODY,
        "ñ" * 28,
        [TOKEN],
        "does not match this URL",
    ),
    ("no tokens at all", delivered(), BODY, "x", [], "no auth token"),
    ("an empty token", delivered(), BODY, documented_signature("", delivered()), [""], "no auth"),
]


@pytest.mark.parametrize(
    ("url", "body", "signature", "tokens", "message"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_the_verifier_fails_closed(
    url: str, body: bytes, signature: str | None, tokens: list[str], message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        verify_delivery(url=url, body=body, signature=signature, tokens=tokens)


def test_a_get_delivery_is_signed_over_its_url_and_query_only() -> None:
    url = DESTINATION + "?type=x&id=1"
    verify_delivery(url=url, body=None, signature=documented_signature(TOKEN, url), tokens=[TOKEN])
    with pytest.raises(SignatureError):
        verify_delivery(url=url + "&id=2", body=None, signature=documented_signature(TOKEN, url),
                        tokens=[TOKEN])  # fmt: skip


@pytest.mark.parametrize(
    ("url", "forms"),
    [
        ("https://a.example/x?q=1", ["https://a.example/x?q=1", "https://a.example:443/x?q=1"]),
        ("https://a.example:443/x", ["https://a.example:443/x", "https://a.example/x"]),
        ("http://a.example/x", ["http://a.example/x", "http://a.example:80/x"]),
        ("http://127.0.0.1:8080/x", ["http://127.0.0.1:8080/x"]),
        ("https://[::1]/x", ["https://[::1]/x", "https://[::1]:443/x"]),
        ("ftp://a.example/x", ["ftp://a.example/x"]),
        ("https://a.example:99999/x", ["https://a.example:99999/x"]),
    ],
)
def test_url_forms(url: str, forms: list[str]) -> None:
    assert url_forms(url) == forms
