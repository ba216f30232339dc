"""Identity services without HTTP: tokens expire, and an expired refresh token is refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update

from apps.kernel import db
from apps.kernel.cache import close_redis, get_redis
from apps.kernel.errors import Invalid, Unauthorized
from apps.kernel.identity.models import ActionToken, RefreshToken
from apps.kernel.identity.services import VERIFY_EMAIL, IdentityService, utcnow
from apps.kernel.settings import get_settings
from tests.conftest import unique_email


def run(action):
    async def body():
        try:
            async with db.session() as session:
                return await action(IdentityService(session, get_redis(), get_settings()))
        finally:
            await close_redis()
            await db.dispose_engines()

    return asyncio.run(body())


def test_an_expired_verification_token_is_refused(stack):
    email = unique_email()

    async def issue(identity):
        user = await identity.create_user(email, "a long enough passphrase", "Eve")
        return user.id, await identity._action_token(user, VERIFY_EMAIL)

    user_id, secret = run(issue)

    async def expire_and_verify(identity):
        await identity.session.execute(
            update(ActionToken)
            .values(expires_at=utcnow() - timedelta(seconds=1))
            .where(ActionToken.user_id == user_id, ActionToken.purpose == VERIFY_EMAIL)
        )
        await identity.verify_email(secret)

    with pytest.raises(Invalid) as error:
        run(expire_and_verify)
    assert error.value.field == "token"


def test_an_expired_refresh_token_is_refused(stack):
    email = unique_email()

    async def login(identity):
        await identity.create_user(email, "a long enough passphrase", "Eve")
        return await identity.login(
            email, "a long enough passphrase", ip="10.9.9.9", user_agent=None
        )

    issued = run(login)

    async def expire_and_refresh(identity):
        await identity.session.execute(
            update(RefreshToken)
            .values(expires_at=utcnow() - timedelta(seconds=1))
            .where(RefreshToken.session_id == issued.session_id)
        )
        await identity.refresh(issued.refresh_token)

    with pytest.raises(Unauthorized, match="expired"):
        run(expire_and_refresh)
