"""Properties of the receive core over any input: it refuses with its own errors, never
crashes, and accepts exactly what was signed."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from events_async.errors import PayloadError, SignatureError
from events_async.webhooks import parse_events, signature_for, signed_url, verify_delivery
from events_async.webhooks.signature import url_forms

urls = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda scheme, host, port, path, query: f"{scheme}://{host}{port}/{path}{query}",
        st.sampled_from(["http", "https", "ftp", ""]),
        st.sampled_from(["a.example", "127.0.0.1", "[::1]", "", "a.example:99999"]),
        st.sampled_from(["", ":443", ":80", ":8080", ":x"]),
        st.text(max_size=20),
        st.sampled_from(["", "?a=1", "?bodySHA256=", "?bodySHA256=x&bodySHA256=y"]),
    ),
)
tokens = st.lists(st.text(max_size=20), max_size=3)


@given(url=urls, body=st.one_of(st.none(), st.binary(max_size=64)), signature=st.text(max_size=40),
       known=tokens)  # fmt: skip
def test_any_delivery_is_accepted_or_refused_with_a_signature_error(
    url: str, body: bytes | None, signature: str, known: list[str]
) -> None:
    try:
        verify_delivery(url=url, body=body, signature=signature, tokens=known)
    except SignatureError:
        return
    # accepted: then it was signed, with one of the tokens, over one form of the URL
    forms = url_forms(url)
    assert any(signature == signature_for(t, form) for t in known if t for form in forms)


@given(
    body=st.binary(max_size=200),
    token=st.text(min_size=1, max_size=20),
    destination=st.sampled_from(["https://a.example/x", "http://127.0.0.1:8/e?s=1"]),
)
def test_what_is_signed_verifies_and_any_other_body_does_not(
    body: bytes, token: str, destination: str
) -> None:
    url = signed_url(destination, body)
    verify_delivery(url=url, body=body, signature=signature_for(token, url), tokens=[token])
    other = body + b" "
    try:
        verify_delivery(url=url, body=other, signature=signature_for(token, url), tokens=[token])
    except SignatureError:
        pass
    else:
        raise AssertionError("a body that was not signed was accepted")


plain_urls = st.builds(
    lambda scheme, host, port, path, mark, query: f"{scheme}://{host}{port}{path}{mark}{query}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["a.example", "127.0.0.1", "A-b.c"]),
    st.sampled_from(["", ":80", ":443", ":0080", ":00443", ":8080", ":99999"]),
    st.sampled_from(["", "/", "/events", "/a(b)'c", "/%27"]),
    st.sampled_from(["", "?"]),
    st.text(alphabet="ab=&'!()*:@%2734AaF/?+", max_size=16),
)


@given(url=plain_urls, token=st.text(min_size=1, max_size=8))
def test_a_plain_url_is_accepted_signed_in_each_of_its_forms(url: str, token: str) -> None:
    # the receiver reads a plain URL's forms from one pattern's groups; they must be
    # urlsplit's forms (url_forms) exactly, the default port and bare "?" included
    for form in url_forms(url):
        verify_delivery(url=url, body=None, signature=signature_for(token, form), tokens=[token])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "specversion": st.one_of(st.just("1.0"), json_values),
        "type": st.one_of(st.just("t"), json_values),
        "source": st.one_of(st.just("/s"), json_values),
        "id": st.one_of(st.text(max_size=8), json_values),
        "time": st.one_of(st.just("2026-11-29T10:00:00Z"), st.text(max_size=12), json_values),
        "data": json_values,
        "datacontenttype": st.one_of(st.just("application/json"), json_values),
    },
)


@given(st.one_of(st.binary(max_size=100), st.lists(envelopes, max_size=3).map(
    lambda events: json.dumps(events).encode())))  # fmt: skip
def test_any_body_parses_or_is_a_payload_error(body: bytes) -> None:
    try:
        events = parse_events(body)
    except PayloadError:
        return
    assert all(isinstance(e.id, str) and isinstance(e.type, str) for e in events)
