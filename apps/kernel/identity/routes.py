"""The identity API at /auth."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.params import Parameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.cache import get_redis
from apps.kernel.clients import client_ip
from apps.kernel.errors import Unauthorized
from apps.kernel.identity.auth import (
    CSRF_COOKIE,
    REFRESH_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    requires_user,
)
from apps.kernel.identity.models import User
from apps.kernel.identity.schemas import (
    Accepted,
    ForgotPasswordRequest,
    LoginRequest,
    RefreshRequest,
    ResetPasswordRequest,
    SessionList,
    SessionRead,
    SignupRequest,
    TokenPair,
    TokenRequest,
    UserRead,
)
from apps.kernel.identity.services import IdentityService, IssuedTokens
from apps.kernel.settings import get_settings


async def provide_identity(db_session: AsyncSession) -> IdentityService:
    return IdentityService(db_session, get_redis(), get_settings())


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        is_verified=user.is_verified,
        created_at=user.created_at,
    )


def _token_response(request: Request[Any, Any, Any], issued: IssuedTokens) -> Response[TokenPair]:
    secure = request.url.scheme == "https"
    settings = get_settings()
    body = TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        token_type="Bearer",
        expires_in=issued.expires_in,
        csrf_token=issued.csrf_token,
    )
    return Response(
        body,
        cookies=[
            Cookie(
                key=SESSION_COOKIE,
                value=issued.access_token,
                httponly=True,
                secure=secure,
                samesite="lax",
                max_age=issued.expires_in,
                path="/",
            ),
            Cookie(
                key=REFRESH_COOKIE,
                value=issued.refresh_token,
                httponly=True,
                secure=secure,
                samesite="strict",
                max_age=settings.refresh_token_ttl,
                path="/auth/refresh",
            ),
            Cookie(
                key=CSRF_COOKIE,
                value=issued.csrf_token,
                httponly=False,
                secure=secure,
                samesite="lax",
                max_age=settings.refresh_token_ttl,
                path="/",
            ),
        ],
    )


class IdentityController(Controller):
    """Sign-up, login, tokens and sessions (brief #21)."""

    path = "/auth"
    tags = ["identity"]
    dependencies = {"identity": Provide(provide_identity)}

    @post("/signup", operation_id="SignUp", status_code=201, exclude_from_auth=True)
    async def signup(self, data: SignupRequest, identity: IdentityService) -> UserRead:
        """Create an account; a verification token is mailed to the address."""
        return user_read(await identity.signup(data.email, data.password, data.display_name))

    @post("/login", operation_id="LogIn", status_code=200, exclude_from_auth=True)
    async def login(
        self, request: Request[Any, Any, Any], data: LoginRequest, identity: IdentityService
    ) -> Response[TokenPair]:
        """Exchange email and password for an access and a refresh token (and session cookies)."""
        issued = await identity.login(
            data.email,
            data.password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
        return _token_response(request, issued)

    @post("/refresh", operation_id="RefreshTokens", status_code=200, exclude_from_auth=True)
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        identity: IdentityService,
        data: RefreshRequest | None = None,
    ) -> Response[TokenPair]:
        """Rotate the refresh token; a reused one revokes the whole session."""
        token = (data.refresh_token if data else None) or request.cookies.get(REFRESH_COOKIE)
        if not token:
            raise Unauthorized(
                "Send refresh_token in the body or the refresh cookie", field="refresh_token"
            )
        return _token_response(request, await identity.refresh(token))

    @post("/logout", operation_id="LogOut", status_code=HTTP_204_NO_CONTENT, guards=[requires_user])
    async def logout(
        self, request: Request[CurrentUser, Token, Any], identity: IdentityService
    ) -> Response[None]:
        """Revoke this access token at once and end its session."""
        token: Token = request.auth
        await identity.logout(
            jti=str(token.jti) if token.jti else None,
            expires_at=token.exp if token.exp.tzinfo else token.exp.replace(tzinfo=UTC),
            session_id=request.user.session_id,
        )
        response: Response[None] = Response(None, status_code=HTTP_204_NO_CONTENT)
        for key, path in (
            (SESSION_COOKIE, "/"),
            (REFRESH_COOKIE, "/auth/refresh"),
            (CSRF_COOKIE, "/"),
        ):
            response.delete_cookie(key, path=path)
        return response

    @get("/me", operation_id="GetMe", guards=[requires_user])
    async def me(
        self, request: Request[CurrentUser, Token, Any], identity: IdentityService
    ) -> UserRead:
        """The signed-in user."""
        return user_read(await identity.get(request.user.id))

    @get("/sessions", operation_id="ListSessions", guards=[requires_user])
    async def sessions(
        self, request: Request[CurrentUser, Token, Any], identity: IdentityService
    ) -> SessionList:
        """My active sessions, most recently used first."""
        current = request.user.session_id
        rows = await identity.sessions(request.user.id)
        return SessionList(
            items=[
                SessionRead(
                    id=row.id,
                    created_at=row.created_at,
                    last_used_at=row.last_used_at,
                    expires_at=row.expires_at,
                    user_agent=row.user_agent,
                    ip_address=row.ip_address,
                    current=row.id == current,
                )
                for row in rows
            ]
        )

    @delete(
        "/sessions/{session_id:uuid}",
        operation_id="RevokeSession",
        guards=[requires_user],
        status_code=HTTP_204_NO_CONTENT,
    )
    async def revoke_session(
        self,
        request: Request[CurrentUser, Token, Any],
        identity: IdentityService,
        session_id: UUID = Parameter(description="A session id from GET /auth/sessions"),
    ) -> None:
        """Sign one of my sessions out; its tokens stop working at once."""
        await identity.revoke_session(request.user.id, session_id)

    @post(
        "/verify-email/request",
        operation_id="RequestEmailVerification",
        guards=[requires_user],
        status_code=HTTP_202_ACCEPTED,
    )
    async def request_verification(
        self, request: Request[CurrentUser, Token, Any], identity: IdentityService
    ) -> Accepted:
        """Mail a fresh verification token to my address."""
        await identity.send_verification(await identity.get(request.user.id))
        return Accepted(detail="A verification message has been sent")

    @post("/verify-email", operation_id="VerifyEmail", status_code=200, exclude_from_auth=True)
    async def verify_email(self, data: TokenRequest, identity: IdentityService) -> UserRead:
        """Confirm an address with the token from the verification message (single use)."""
        return user_read(await identity.verify_email(data.token))

    @post(
        "/password/forgot",
        operation_id="ForgotPassword",
        status_code=HTTP_202_ACCEPTED,
        exclude_from_auth=True,
    )
    async def forgot_password(
        self, data: ForgotPasswordRequest, identity: IdentityService
    ) -> Accepted:
        """Mail a reset token if the account exists; the answer never says whether it does."""
        await identity.forgot_password(data.email)
        return Accepted(detail="If the address has an account, a reset message has been sent")

    @post(
        "/password/reset",
        operation_id="ResetPassword",
        status_code=HTTP_204_NO_CONTENT,
        exclude_from_auth=True,
    )
    async def reset_password(self, data: ResetPasswordRequest, identity: IdentityService) -> None:
        """Choose a new password with a reset token; every session is signed out."""
        await identity.reset_password(data.token, data.password)
