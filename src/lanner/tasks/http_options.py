"""The `options` of the HTTP tasks, and how they resolve into plain client settings.

`HttpOptions` is Kestra's `HttpConfiguration`: the current nested keys (`timeout`, `proxy`,
`auth`, `ssl`, ...) and the deprecated flat ones older flows still use (`connectTimeout`,
`readTimeout`, `basicAuthUser`, ...). `resolve_options` renders every template and folds the
deprecated keys into one `ResolvedOptions` record, so the tasks never look at both spellings.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from lanner.exceptions import TaskError
from lanner.expressions.values import to_text
from lanner.properties import Dynamic, DynamicDuration, Expr
from lanner.retry import RetryPolicy
from lanner.tasks.http_retry import DEFAULT_RETRY_CODES, IDEMPOTENT_METHODS, RetrySettings

if TYPE_CHECKING:
    from lanner.context import RunContext

T = TypeVar("T")

MAX_CONTENT_LENGTH = 2 * 1024**3
DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024**2
DEFAULT_CONNECT_TIMEOUT = timedelta(seconds=30)
DEFAULT_READ_IDLE_TIMEOUT = timedelta(minutes=5)


def _scalar_as_text(value: Any) -> Any:
    """Accept `password: 1234` as the text `1234`, as Kestra's string properties do."""
    if isinstance(value, bool | int | float):
        return to_text(value)
    return value


Text = Annotated[str, BeforeValidator(_scalar_as_text)]
"""A string property that also takes a YAML number or boolean as its text."""

ContentLength = Annotated[int, Field(ge=0, le=MAX_CONTENT_LENGTH)]


class _Options(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        alias_generator=to_camel,
        arbitrary_types_allowed=True,
    )


class LogType(StrEnum):
    """What `options.logs` writes to the task run's logs."""

    REQUEST_HEADERS = "REQUEST_HEADERS"
    REQUEST_BODY = "REQUEST_BODY"
    RESPONSE_HEADERS = "RESPONSE_HEADERS"
    RESPONSE_BODY = "RESPONSE_BODY"


class LegacyLogLevel(StrEnum):
    """The deprecated `options.logLevel` (Micronaut's log levels)."""

    ALL = "ALL"
    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    OFF = "OFF"
    NOT_SPECIFIED = "NOT_SPECIFIED"


# The logs each deprecated level stands for; levels not listed log nothing.
_LEGACY_LOGS: dict[LegacyLogLevel, frozenset[LogType]] = {
    LegacyLogLevel.ALL: frozenset(LogType),
    LegacyLogLevel.TRACE: frozenset(LogType),
    LegacyLogLevel.DEBUG: frozenset({LogType.REQUEST_HEADERS, LogType.RESPONSE_HEADERS}),
    LegacyLogLevel.INFO: frozenset({LogType.RESPONSE_HEADERS}),
}


class ProxyType(StrEnum):
    DIRECT = "DIRECT"
    HTTP = "HTTP"
    SOCKS = "SOCKS"


class TimeoutOptions(_Options):
    """`options.timeout`."""

    connect_timeout: DynamicDuration | None = None
    read_idle_timeout: DynamicDuration | None = None


class ProxyOptions(_Options):
    """`options.proxy`."""

    # Without a type, an address means an HTTP proxy; `DIRECT` ignores the address.
    type: Dynamic[ProxyType] | None = None
    address: Text | None = None
    port: Dynamic[int] | None = None
    username: Text | None = None
    password: Text | None = None


class BasicAuth(_Options):
    """Pre-emptive `Authorization: Basic ...`."""

    type: Literal["BASIC"]
    username: Text | None = None
    password: Text | None = None


class BearerAuth(_Options):
    """`Authorization: Bearer <token>`."""

    type: Literal["BEARER"]
    token: Text | None = None


class DigestAuth(_Options):
    """RFC 7616 digest authentication (a challenge, then the answered request)."""

    type: Literal["DIGEST"]
    username: Text | None = None
    password: Text | None = None


Auth = Annotated[BasicAuth | BearerAuth | DigestAuth, Field(discriminator="type")]


class SslOptions(_Options):
    """`options.ssl` (and the deprecated task-level `sslOptions`)."""

    insecure_trust_all_certificates: Dynamic[bool] | None = None


class HttpOptions(_Options):
    """`options` of Request, Download, Trigger and SseRequest."""

    timeout: TimeoutOptions | None = None
    proxy: ProxyOptions | None = None
    auth: Auth | None = None
    ssl: SslOptions | None = None
    follow_redirects: Dynamic[bool] = True
    allow_failed: Dynamic[bool] = False
    allowed_response_codes: Dynamic[list[int]] | None = None
    default_charset: Text | None = "UTF-8"
    logs: list[LogType] | None = None
    max_content_length: Dynamic[ContentLength] | None = None
    retry: RetryPolicy | None = None
    retry_on_status_codes: Dynamic[list[int]] | None = None
    retry_on_status_codes_by_method: Dynamic[dict[str, list[int]]] | None = None
    retryable_transport_failure_methods: Dynamic[list[str]] | None = None
    # A JVM socket setting of Kestra's (TCP keep-alive probes): accepted so flows load, ignored.
    enabled_tcp_extended_keep_alive: Dynamic[bool] | None = None

    # Deprecated flat keys, folded into the nested ones by `resolve_options`.
    connect_timeout: DynamicDuration | None = None
    read_timeout: DynamicDuration | None = None
    proxy_type: Dynamic[ProxyType] | None = None
    proxy_address: Text | None = None
    proxy_port: Dynamic[int] | None = None
    proxy_username: Text | None = None
    proxy_password: Text | None = None
    basic_auth_user: Text | None = None
    basic_auth_password: Text | None = None
    log_level: LegacyLogLevel | None = None
    # Deprecated and without an equivalent: accepted so old flows load, then ignored.
    read_idle_timeout: DynamicDuration | None = None
    connection_pool_idle_timeout: DynamicDuration | None = None


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Rendered credentials: `kind` is BASIC, BEARER or DIGEST."""

    kind: str
    username: str = ""
    password: str = ""
    token: str = ""


@dataclass(frozen=True, slots=True)
class ResolvedOptions:
    """Every option rendered, defaulted and with the deprecated keys folded in."""

    connect_timeout: timedelta
    read_idle_timeout: timedelta
    follow_redirects: bool
    verify: bool
    proxy: str | None
    allow_failed: bool
    allowed_response_codes: tuple[int, ...]
    charset: str | None
    logs: frozenset[LogType]
    max_content_length: int
    auth: AuthSettings | None
    retry: RetrySettings = field(default_factory=RetrySettings)

    def accepts(self, code: int) -> bool:
        """Say whether a response code is a success (spec http-tasks.md §2.1)."""
        if self.allowed_response_codes:
            return code in self.allowed_response_codes
        return self.allow_failed or code < 400


# What an absent `options`, `options.timeout` or `options.proxy` stands for: frozen models,
# made once rather than validated again for every task run.
_NO_OPTIONS = HttpOptions()
_NO_TIMEOUT = TimeoutOptions()
_NO_PROXY = ProxyOptions()

_BOOL: TypeAdapter[bool] = TypeAdapter(bool)
_INT: TypeAdapter[int] = TypeAdapter(int)
_CODES: TypeAdapter[list[int]] = TypeAdapter(list[int])
_LENGTH: TypeAdapter[ContentLength] = TypeAdapter(ContentLength)
_PROXY_TYPE: TypeAdapter[ProxyType] = TypeAdapter(ProxyType)
_METHODS: TypeAdapter[list[str]] = TypeAdapter(list[str])
_CODES_BY_METHOD: TypeAdapter[dict[str, list[int]]] = TypeAdapter(dict[str, list[int]])


def resolve(ctx: RunContext, value: T | Expr, adapter: TypeAdapter[T], name: str) -> T:
    """Render a dynamic property and check it against its type, naming it on failure."""
    if not isinstance(value, Expr):
        return value
    rendered = ctx.render_typed(value)
    try:
        return adapter.validate_python(rendered)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise TaskError(f"Invalid value for '{name}': {rendered!r} ({problem})") from exc


def _duration(ctx: RunContext, value: timedelta | Expr | None, name: str) -> timedelta | None:
    try:
        return ctx.duration(value)
    except ValueError as exc:
        raise TaskError(f"Invalid duration for '{name}': {exc}") from exc


def _first(new: T | None, old: T | None) -> T | None:
    """Return the current key's value, else the deprecated key's."""
    return new if new is not None else old


def resolve_options(
    ctx: RunContext,
    options: HttpOptions | None,
    *,
    allow_failed: bool | Expr | None = None,
    ssl_options: SslOptions | None = None,
) -> ResolvedOptions:
    """Render `options` (plus the deprecated task-level copies) into plain settings."""
    options = options or _NO_OPTIONS
    if allow_failed is not None:
        allowed = resolve(ctx, allow_failed, _BOOL, "allowFailed")
    else:
        allowed = resolve(ctx, options.allow_failed, _BOOL, "options.allowFailed")
    return ResolvedOptions(
        connect_timeout=_connect_timeout(ctx, options),
        read_idle_timeout=_read_idle_timeout(ctx, options),
        follow_redirects=resolve(ctx, options.follow_redirects, _BOOL, "options.followRedirects"),
        verify=not _trust_all(ctx, options.ssl or ssl_options),
        proxy=_proxy_url(ctx, options),
        allow_failed=allowed,
        allowed_response_codes=_codes(ctx, options),
        charset=_charset(ctx, options.default_charset),
        logs=_logs(options),
        max_content_length=_max_content_length(ctx, options),
        auth=_auth(ctx, options),
        retry=_retry(ctx, options),
    )


def _retry(ctx: RunContext, options: HttpOptions) -> RetrySettings:
    codes: tuple[int, ...] = DEFAULT_RETRY_CODES
    if options.retry_on_status_codes is not None:
        listed_codes = resolve(
            ctx, options.retry_on_status_codes, _CODES, "options.retryOnStatusCodes"
        )
        codes = tuple(listed_codes)
    by_method: dict[str, tuple[int, ...]] = {}
    if options.retry_on_status_codes_by_method is not None:
        name = "options.retryOnStatusCodesByMethod"
        rendered = resolve(ctx, options.retry_on_status_codes_by_method, _CODES_BY_METHOD, name)
        by_method = {method.upper(): tuple(listed) for method, listed in rendered.items()}
    methods = IDEMPOTENT_METHODS
    if options.retryable_transport_failure_methods is not None:
        name = "options.retryableTransportFailureMethods"
        listed = resolve(ctx, options.retryable_transport_failure_methods, _METHODS, name)
        methods = frozenset(method.upper() for method in listed)
    return RetrySettings(options.retry, codes, by_method, methods)


def _codes(ctx: RunContext, options: HttpOptions) -> tuple[int, ...]:
    codes = options.allowed_response_codes
    if codes is None:
        return ()
    if isinstance(codes, Expr):
        codes = resolve(ctx, codes, _CODES, "options.allowedResponseCodes")
    return tuple(codes)


def _connect_timeout(ctx: RunContext, options: HttpOptions) -> timedelta:
    timeout = options.timeout or _NO_TIMEOUT
    chosen = timeout.connect_timeout
    if chosen is None:
        chosen = options.connect_timeout
    value = _duration(ctx, chosen, "options.timeout.connectTimeout")
    return value if value is not None else DEFAULT_CONNECT_TIMEOUT


def _read_idle_timeout(ctx: RunContext, options: HttpOptions) -> timedelta:
    timeout = options.timeout or _NO_TIMEOUT
    chosen = timeout.read_idle_timeout
    if chosen is None:
        chosen = options.read_timeout
    value = _duration(ctx, chosen, "options.timeout.readIdleTimeout")
    return value if value is not None else DEFAULT_READ_IDLE_TIMEOUT


def _trust_all(ctx: RunContext, ssl: SslOptions | None) -> bool:
    # Kestra trusts everything as soon as the key is present, even `false`; only `true` does here.
    if ssl is None or ssl.insecure_trust_all_certificates is None:
        return False
    return resolve(
        ctx, ssl.insecure_trust_all_certificates, _BOOL, "options.ssl.insecureTrustAllCertificates"
    )


def _charset(ctx: RunContext, charset: str | None) -> str | None:
    if charset is None:
        return None
    name = ctx.render(charset).strip()
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise TaskError(f"Unknown charset '{name}' in options.defaultCharset") from exc
    return name


def _logs(options: HttpOptions) -> frozenset[LogType]:
    if options.logs is not None:
        return frozenset(options.logs)
    if options.log_level is not None:
        return _LEGACY_LOGS.get(options.log_level, frozenset())
    return frozenset()


def _max_content_length(ctx: RunContext, options: HttpOptions) -> int:
    if options.max_content_length is None:
        return DEFAULT_MAX_CONTENT_LENGTH
    return resolve(ctx, options.max_content_length, _LENGTH, "options.maxContentLength")


def _auth(ctx: RunContext, options: HttpOptions) -> AuthSettings | None:
    auth = options.auth
    if isinstance(auth, BasicAuth | DigestAuth):
        return AuthSettings(auth.type, ctx.render(auth.username), ctx.render(auth.password))
    if isinstance(auth, BearerAuth):
        return AuthSettings(auth.type, token=ctx.render(auth.token))
    if options.basic_auth_user is not None or options.basic_auth_password is not None:
        user, password = options.basic_auth_user, options.basic_auth_password
        return AuthSettings("BASIC", ctx.render(user), ctx.render(password))
    return None


def _proxy_url(ctx: RunContext, options: HttpOptions) -> str | None:
    """Return the proxy as a URL (`http://user:pass@host:port`), or None to go direct."""
    proxy = options.proxy or _NO_PROXY
    address = _first(proxy.address, options.proxy_address)
    if address is None:
        return None
    chosen = proxy.type if proxy.type is not None else options.proxy_type
    if chosen is None:
        kind = ProxyType.HTTP
    else:
        kind = resolve(ctx, chosen, _PROXY_TYPE, "options.proxy.type")
    if kind is ProxyType.DIRECT:
        return None
    port = proxy.port if proxy.port is not None else options.proxy_port
    if port is None:
        raise TaskError("options.proxy.port is required with options.proxy.address")
    host = ctx.render(address).strip()
    number = resolve(ctx, port, _INT, "options.proxy.port")
    scheme = "socks5" if kind is ProxyType.SOCKS else "http"
    return f"{scheme}://{_proxy_credentials(ctx, options, proxy)}{host}:{number}"


def _proxy_credentials(ctx: RunContext, options: HttpOptions, proxy: ProxyOptions) -> str:
    username = _first(proxy.username, options.proxy_username)
    if username is None:
        return ""
    password = _first(proxy.password, options.proxy_password)
    user = quote(ctx.render(username), safe="")
    return f"{user}:{quote(ctx.render(password), safe='')}@" if password is not None else f"{user}@"
