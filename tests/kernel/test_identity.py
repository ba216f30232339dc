"""Identity through HTTP: sign-up, login, tokens, sessions, verification, reset, limits."""

from __future__ import annotations

import re
import uuid

from apps.kernel.mail import read_outbox
from tests.conftest import sign_up, unique_email

PASSWORD = "a long enough passphrase"


def _signup(client, email=None, password=PASSWORD, name="Ada"):
    return client.post(
        "/auth/signup",
        json={"email": email or unique_email(), "password": password, "display_name": name},
    )


def test_signup_creates_an_account(client):
    email = unique_email()
    response = _signup(client, email=email.upper())
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == email
    assert body["role"] == "user"
    assert "password" not in response.text


def test_email_is_unique_case_insensitively(client):
    email = unique_email()
    assert _signup(client, email=email).status_code == 201
    again = _signup(client, email=email.upper())
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["field"] == "email"


def test_short_password_is_refused_naming_the_field(client):
    response = _signup(client, password="short")
    assert response.status_code == 422
    assert response.json()["field"] == "password"


def test_common_password_is_refused(client):
    response = _signup(client, password="password123")
    assert response.status_code == 422
    assert "common" in response.json()["detail"]


def test_malformed_body_is_a_4xx_problem(client):
    response = client.post("/auth/signup", json={"email": 5})
    assert response.status_code == 422
    assert response.json()["field"] in {"email", "password", "display_name"}
    bad_json = client.post(
        "/auth/signup", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert 400 <= bad_json.status_code < 500


def test_login_answers_tokens_and_me_works(client, user):
    me = client.get("/auth/me", headers=user.headers)
    assert me.status_code == 200
    assert me.json()["email"] == user.email


def test_wrong_password_and_unknown_email_look_the_same(client, user):
    wrong = client.post("/auth/login", json={"email": user.email, "password": "not the password"})
    unknown = client.post(
        "/auth/login", json={"email": unique_email(), "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def _ip() -> dict[str, str]:
    return {"X-Forwarded-For": ".".join(["10", *(str(b) for b in uuid.uuid4().bytes[:3])])}


def test_login_is_rate_limited_per_account(client, user):
    for _ in range(5):
        attempt = client.post(
            "/auth/login", json={"email": user.email, "password": "wrong password!"}, headers=_ip()
        )
        assert attempt.status_code == 401
    limited = client.post(
        "/auth/login", json={"email": user.email, "password": user.password}, headers=_ip()
    )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.headers["content-type"].startswith("application/problem+json")


def test_login_is_rate_limited_per_ip_across_accounts(client):
    ip = _ip()
    for _ in range(12):
        attempt = client.post(
            "/auth/login", json={"email": unique_email(), "password": "wrong password!"}, headers=ip
        )
        assert attempt.status_code == 401
    assert (
        client.post(
            "/auth/login", json={"email": unique_email(), "password": "x" * 12}, headers=ip
        ).status_code
        == 429
    )


def test_me_without_token_is_401(client):
    response = client.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_garbage_token_is_401(client):
    assert client.get("/auth/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_family(client, user):
    first = client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != user.refresh_token
    reused = client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert reused.status_code == 401
    # the whole family is gone: the rotated token and its access token stop working too
    assert (
        client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code
        == 401
    )
    client.cookies.clear()
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert me.status_code == 401


def test_logout_revokes_the_access_token_at_once(client, user):
    assert client.post("/auth/logout", headers=user.headers).status_code == 204
    assert client.get("/auth/me", headers=user.headers).status_code == 401
    assert (
        client.post("/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 401
    )


def test_list_and_revoke_my_sessions(client, user):
    second = client.post(
        "/auth/login", json={"email": user.email, "password": user.password}
    ).json()
    client.cookies.clear()
    sessions = client.get("/auth/sessions", headers=user.headers).json()["items"]
    assert len(sessions) == 2
    assert sum(1 for s in sessions if s["current"]) == 1
    other = next(s for s in sessions if not s["current"])
    assert client.delete(f"/auth/sessions/{other['id']}", headers=user.headers).status_code == 204
    assert (
        client.get(
            "/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"}
        ).status_code
        == 401
    )
    assert client.get("/auth/me", headers=user.headers).status_code == 200


def test_cannot_revoke_another_users_session(client, user, other_user):
    theirs = client.get("/auth/sessions", headers=other_user.headers).json()["items"][0]
    assert client.delete(f"/auth/sessions/{theirs['id']}", headers=user.headers).status_code == 404


def test_session_cookie_works_and_unsafe_requests_need_csrf(client, user):
    login = client.post("/auth/login", json={"email": user.email, "password": user.password})
    assert "httponly" in login.headers.get("set-cookie", "").lower()
    csrf = login.json()["csrf_token"]
    assert client.get("/auth/me").status_code == 200
    assert client.post("/auth/logout").status_code == 403
    assert client.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204


def _token_from_outbox(email: str, subject_word: str) -> str:
    mails = [m for m in read_outbox() if m.to == email and subject_word in m.subject.lower()]
    assert mails, f"no {subject_word} mail for {email}"
    return re.search(r"\n\n([A-Za-z0-9_\-]{20,})\n\n", mails[-1].body).group(1)


def test_email_verification_token_is_single_use(client, user):
    token = _token_from_outbox(user.email, "confirm")
    verified = client.post("/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    assert verified.json()["is_verified"] is True
    again = client.post("/auth/verify-email", json={"token": token})
    assert again.status_code == 422
    assert again.json()["field"] == "token"


def test_password_reset_flow_signs_out_everywhere(client, user):
    assert client.post("/auth/password/forgot", json={"email": user.email}).status_code == 202
    nobody = client.post("/auth/password/forgot", json={"email": unique_email()})
    assert nobody.status_code == 202
    token = _token_from_outbox(user.email, "reset")
    new_password = "another long passphrase"
    assert (
        client.post(
            "/auth/password/reset", json={"token": token, "password": new_password}
        ).status_code
        == 204
    )
    assert client.get("/auth/me", headers=user.headers).status_code == 401
    assert (
        client.post(
            "/auth/login", json={"email": user.email, "password": user.password}
        ).status_code
        == 401
    )
    assert (
        client.post("/auth/login", json={"email": user.email, "password": new_password}).status_code
        == 200
    )
    assert (
        client.post(
            "/auth/password/reset", json={"token": token, "password": new_password}
        ).status_code
        == 422
    )


def test_admin_role_is_in_the_token(client):
    admin = sign_up(client, admin=True)
    assert client.get("/auth/me", headers=admin.headers).json()["role"] == "admin"


def test_a_missing_required_field_is_named(client):
    response = client.post("/auth/signup", json={"email": unique_email(), "password": PASSWORD})
    assert response.status_code == 422
    assert response.json()["field"] == "display_name"
