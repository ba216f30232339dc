"""Identity domain logic: sign-up, login, token rotation, sessions, verification and reset.

No HTTP objects here; routes pass in what they read from the request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from email_validator import EmailNotValidError, validate_email
from litestar.security.jwt import Token
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.kernel.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from apps.kernel.identity.auth import ROLES, deny_key_for_session, deny_key_for_token
from apps.kernel.identity.denylist import deny
from apps.kernel.identity.models import ActionToken, AuthSession, RefreshToken, User
from apps.kernel.identity.passwords import check_policy, hash_password, verify_password
from apps.kernel.mail import send_mail
from apps.kernel.ratelimit import RateLimiter
from apps.kernel.settings import Settings

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def normalise_email(email: str) -> str:
    """Validate syntax and lower-case the whole address (uniqueness is case-insensitive)."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid("email", str(exc)) from None
    return result.normalized.lower()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: UUID
    csrf_token: str


class IdentityService:
    """Users and their credentials; the session is owned by the caller."""

    def __init__(self, session: AsyncSession, redis: Redis, settings: Settings) -> None:
        self.session = session
        self.redis = redis
        self.settings = settings

    # ---- users ---------------------------------------------------------------------------

    async def find_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.strip().lower()))

    async def get(self, user_id: UUID) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise NotFound("No such user")
        return user

    async def create_user(
        self,
        email: str,
        password: str,
        display_name: str,
        *,
        role: str = "user",
        verified: bool = False,
    ) -> User:
        """Create a user after the password policy; Conflict if the email is taken."""
        address = normalise_email(email)
        name = display_name.strip()
        if not name:
            raise Invalid("display_name", "Display name must not be blank")
        check_policy(password, email=address)
        if role not in ROLES:
            raise Invalid("role", f"Role must be one of {', '.join(ROLES)}")
        if await self.find_by_email(address) is not None:
            raise Conflict("An account with this email already exists", field="email")
        user = User(
            email=address,
            display_name=name,
            password_hash=await hash_password(password),
            role=role,
            is_verified=verified,
            is_active=True,
        )
        self.session.add(user)
        await self.session.flush()
        return user

    async def signup(self, email: str, password: str, display_name: str) -> User:
        user = await self.create_user(email, password, display_name)
        await self.send_verification(user)
        return user

    async def set_role(self, email: str, role: str) -> User:
        if role not in ROLES:
            raise Invalid("role", f"Role must be one of {', '.join(ROLES)}")
        user = await self.find_by_email(email)
        if user is None:
            raise NotFound(f"No user with email {email}")
        user.role = role
        await self.session.flush()
        return user

    # ---- login and tokens ----------------------------------------------------------------

    def _limiters(self) -> tuple[RateLimiter, RateLimiter]:
        window = self.settings.login_window_seconds
        return (
            RateLimiter(
                self.redis,
                "auth:fail:ip",
                limit=self.settings.login_max_failures_per_ip,
                window=window,
            ),
            RateLimiter(
                self.redis,
                "auth:fail:account",
                limit=self.settings.login_max_failures,
                window=window,
            ),
        )

    async def login(
        self, email: str, password: str, *, ip: str | None, user_agent: str | None
    ) -> IssuedTokens:
        """Check credentials under the per-IP and per-account failure limits."""
        by_ip, by_account = self._limiters()
        account_key = _digest(email.strip().lower())
        ip_key = ip or "unknown"
        for limiter, key in ((by_ip, ip_key), (by_account, account_key)):
            decision = await limiter.peek(key)
            if not decision.allowed:
                raise TooManyRequests(
                    "Too many failed sign-in attempts; try again later",
                    retry_after=decision.retry_after,
                )
        user = await self.find_by_email(email)
        ok = await verify_password(user.password_hash if user else None, password)
        if not ok or user is None or not user.is_active:
            await by_ip.hit(ip_key)
            await by_account.hit(account_key)
            raise Unauthorized("Email or password is wrong")
        await by_account.reset(account_key)
        return await self._start_session(user, ip=ip, user_agent=user_agent)

    async def _start_session(
        self, user: User, *, ip: str | None, user_agent: str | None
    ) -> IssuedTokens:
        now = utcnow()
        auth_session = AuthSession(
            user_id=user.id,
            ip_address=(ip or None),
            user_agent=(user_agent or "")[:400] or None,
            last_used_at=now,
            expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl),
        )
        self.session.add(auth_session)
        await self.session.flush()
        return await self._issue(user, auth_session)

    async def _issue(self, user: User, auth_session: AuthSession) -> IssuedTokens:
        now = utcnow()
        secret = secrets.token_urlsafe(32)
        refresh = RefreshToken(
            session_id=auth_session.id,
            token_hash=_digest(secret),
            expires_at=auth_session.expires_at,
        )
        self.session.add(refresh)
        await self.session.flush()
        access = Token(
            sub=str(user.id),
            exp=now + timedelta(seconds=self.settings.access_token_ttl),
            iat=now,
            jti=uuid4().hex,
            extras={
                "email": user.email,
                "name": user.display_name,
                "role": user.role,
                "sid": str(auth_session.id),
            },
        ).encode(secret=self.settings.jwt_secret, algorithm="HS256")
        return IssuedTokens(
            access_token=access,
            refresh_token=secret,
            expires_in=self.settings.access_token_ttl,
            session_id=auth_session.id,
            csrf_token=secrets.token_urlsafe(24),
        )

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        """Rotate a refresh token; presenting a used one revokes its whole session (family)."""
        row = await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == _digest(refresh_token))
        )
        if row is None:
            raise Unauthorized("Refresh token is not valid")
        auth_session = await self.session.get(AuthSession, row.session_id)
        now = utcnow()
        if auth_session is None or auth_session.revoked_at is not None:
            raise Unauthorized("This session has been signed out")
        if row.used_at is not None:
            await self._revoke_reused_family(auth_session)
        if _aware(row.expires_at) <= now:
            raise Unauthorized("Refresh token has expired")
        claimed = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            await self._revoke_reused_family(auth_session)
        user = await self.get(auth_session.user_id)
        auth_session.last_used_at = now
        return await self._issue(user, auth_session)

    async def _revoke_reused_family(self, auth_session: AuthSession) -> None:
        """A reused refresh token means it leaked: end the family, and keep that despite the 401."""
        await self._revoke_session(auth_session)
        # The error response rolls the request's transaction back; this revocation must stay.
        await self.session.commit()
        raise Unauthorized("Refresh token was already used; the session has been revoked")

    async def _revoke_session(self, auth_session: AuthSession) -> None:
        auth_session.revoked_at = utcnow()
        await self.session.flush()
        # Access tokens of this session stop working at once, not at their expiry.
        await deny(
            self.redis, deny_key_for_session(auth_session.id), self.settings.access_token_ttl
        )

    async def logout(
        self, *, jti: str | None, expires_at: datetime | None, session_id: UUID | None
    ) -> None:
        """Deny-list this access token for its remaining life and end its session."""
        if jti:
            remaining = int(((expires_at or utcnow()) - utcnow()).total_seconds())
            await deny(self.redis, deny_key_for_token(jti), max(1, remaining))
        if session_id:
            auth_session = await self.session.get(AuthSession, session_id)
            if auth_session is not None and auth_session.revoked_at is None:
                await self._revoke_session(auth_session)

    async def sessions(self, user_id: UUID) -> list[AuthSession]:
        now = utcnow()
        rows = await self.session.scalars(
            select(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .order_by(AuthSession.last_used_at.desc())
        )
        return [row for row in rows if _aware(row.expires_at) > now]

    async def revoke_session(self, user_id: UUID, session_id: UUID) -> None:
        auth_session = await self.session.get(AuthSession, session_id)
        if (
            auth_session is None
            or auth_session.user_id != user_id
            or auth_session.revoked_at is not None
        ):
            raise NotFound("No such session")
        await self._revoke_session(auth_session)

    # ---- email verification and password reset ------------------------------------------

    async def _action_token(self, user: User, purpose: str) -> str:
        secret = secrets.token_urlsafe(32)
        self.session.add(
            ActionToken(
                user_id=user.id,
                purpose=purpose,
                token_hash=_digest(secret),
                expires_at=utcnow() + timedelta(seconds=self.settings.action_token_ttl),
            )
        )
        await self.session.flush()
        return secret

    async def _consume(self, secret: str, purpose: str) -> User:
        token = await self.session.scalar(
            select(ActionToken).where(
                ActionToken.token_hash == _digest(secret), ActionToken.purpose == purpose
            )
        )
        if token is None or token.used_at is not None or _aware(token.expires_at) <= utcnow():
            raise Invalid("token", "This link is invalid, already used or expired")
        claimed = await self.session.execute(
            update(ActionToken)
            .where(ActionToken.id == token.id, ActionToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Invalid("token", "This link is invalid, already used or expired")
        return await self.get(token.user_id)

    async def send_verification(self, user: User) -> None:
        secret = await self._action_token(user, VERIFY_EMAIL)
        await send_mail(
            user.email,
            "Confirm your email address",
            f"Hello {user.display_name},\n\nConfirm your address with this token:\n\n{secret}\n\n"
            f"or open {self.settings.public_url}/auth/verify-email?token={secret}\n",
        )

    async def verify_email(self, secret: str) -> User:
        user = await self._consume(secret, VERIFY_EMAIL)
        user.is_verified = True
        await self.session.flush()
        return user

    async def forgot_password(self, email: str) -> None:
        """Mail a reset token if the account exists; the caller's answer is the same either way."""
        user = await self.find_by_email(email)
        if user is None or not user.is_active:
            return
        secret = await self._action_token(user, RESET_PASSWORD)
        await send_mail(
            user.email,
            "Reset your password",
            f"Hello {user.display_name},\n\n"
            f"Use this token to choose a new password:\n\n{secret}\n\n"
            "If you did not ask for it, ignore this message.\n",
        )

    async def reset_password(self, secret: str, password: str) -> User:
        """Set a new password and sign the user out everywhere."""
        user = await self._consume(secret, RESET_PASSWORD)
        check_policy(password, email=user.email)
        user.password_hash = await hash_password(password)
        for auth_session in await self.sessions(user.id):
            await self._revoke_session(auth_session)
        await self.session.flush()
        return user
