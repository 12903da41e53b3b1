"""botocore's SigV4 signature, computed with less Python per request.

Why it exists: signing a data-plane request through botocore's ``SigV4Auth`` costs about
as much client CPU as encoding its 25 items, mostly in bookkeeping that gives the same
answer every time: the header map is rebuilt (as an ``email.message`` object) twice per
signature, the URL is split and its path normalised for every request, and the signing
key is derived with four HMACs although it only changes with the date, the secret key,
the region and the service.

:class:`FastSigV4Auth` is botocore's ``SigV4Auth`` with exactly those steps replaced by
equivalent ones (the same canonical request, string to sign and ``Authorization``
header, byte for byte; the tests compare them against botocore's own class). Everything
else is botocore's code: the timestamp, the date and token headers, the payload hash,
the logging. :func:`fast_signer` wraps a client's request signer so its ``sign`` runs
unchanged (the ``choose-signer`` and ``before-sign`` events fire, the signing context's
region and name apply, refreshable credentials are frozen as before) and only a plain
``SigV4Auth`` it picks is swapped for this one; any other signer is used as it is.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Iterator
from hashlib import sha256
from typing import Any, Final
from urllib.parse import quote, urlsplit

import botocore.auth
from botocore.auth import SIGNED_HEADERS_BLACKLIST, SigV4Auth
from botocore.signers import RequestSigner
from botocore.utils import normalize_url_path

__all__ = ["FastSigV4Auth", "fast_signer"]

_KEY_CACHE_SIZE: Final = 16
_BOTOCORE_AUTH: Any = botocore.auth  # the host rule is private to it


class _HeadersToSign:
    """The lower-cased headers to sign, as botocore's ``HTTPHeaders`` map holds them
    (repeated names keep every value, in order), without the ``email.message`` cost."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, list[str]]) -> None:
        self.values = values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def get_all(self, name: str) -> list[str]:
        return self.values[name]


@functools.lru_cache(maxsize=64)
def _url_parts(url: str) -> tuple[str, str, str]:
    """The normalised path and the query string of ``url`` (as ``SigV4Auth`` derives
    them), and the host header botocore would sign when none is set."""
    parts = urlsplit(url)
    return (
        quote(normalize_url_path(parts.path), safe="/~"),
        parts.query,
        _BOTOCORE_AUTH._host_from_url(url),
    )


@functools.lru_cache(maxsize=_KEY_CACHE_SIZE)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key: four HMACs that change only with these four values."""
    key = hmac.new(f"AWS4{secret_key}".encode(), date.encode("utf-8"), sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), sha256).digest()
    return key


class FastSigV4Auth(SigV4Auth):
    """``SigV4Auth`` with the per-request constant work done once (same signature)."""

    def headers_to_sign(self, request: Any) -> Any:
        values: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            if not isinstance(value, str) or not value.isascii():
                return super().headers_to_sign(request)  # botocore's own handling
            lname = name.lower()
            if lname not in SIGNED_HEADERS_BLACKLIST:
                values.setdefault(lname, []).append(value)
        if "host" not in values:
            values["host"] = [_url_parts(request.url)[2]]
        return _HeadersToSign(values)

    def canonical_request(self, request: Any) -> str:
        if request.params:
            return str(super().canonical_request(request))
        path, query, _ = _url_parts(request.url)
        internals: Any = self
        headers = self.headers_to_sign(request)
        if "X-Amz-Content-SHA256" in request.headers:
            body_checksum = request.headers["X-Amz-Content-SHA256"]
        else:
            body_checksum = self.payload(request)
        return "\n".join(
            (
                request.method.upper(),
                path,
                internals._canonical_query_string_url(_Query(query)) if query else "",
                self.canonical_headers(headers) + "\n",
                self.signed_headers(headers),
                body_checksum,
            )
        )

    def signature(self, string_to_sign: str, request: Any) -> str:
        internals: Any = self
        key = _signing_key(
            self.credentials.secret_key,
            request.context["timestamp"][0:8],
            internals._region_name,
            internals._service_name,
        )
        return hmac.new(key, string_to_sign.encode("utf-8"), sha256).hexdigest()


class _Query:
    """What ``SigV4Auth._canonical_query_string_url`` reads of a split URL."""

    __slots__ = ("query",)

    def __init__(self, query: str) -> None:
        self.query = query


class _FastSigner:
    """A client's request signer whose plain SigV4 signatures use :class:`FastSigV4Auth`.

    ``sign`` is botocore's ``RequestSigner.sign`` run on this wrapper, so every step of it
    reads the wrapped signer's live state (credentials swapped in later included).
    """

    def __init__(self, signer: RequestSigner) -> None:
        self._signer = signer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._signer, name)

    def sign(self, operation_name: str, request: Any) -> None:
        RequestSigner.sign(self, operation_name, request)  # type: ignore[arg-type]

    def get_auth_instance(self, **kwargs: Any) -> Any:
        auth = self._signer.get_auth_instance(**kwargs)
        if type(auth) is SigV4Auth:
            auth.__class__ = FastSigV4Auth
        return auth


def fast_signer(signer: Any) -> Any:
    """``signer`` wrapped as above when it is botocore's own ``RequestSigner`` (a
    subclass or a stand-in may sign differently, so it is returned as it is)."""
    if type(signer) is RequestSigner:
        return _FastSigner(signer)
    return signer
