"""The API answers in its envelope from the first request."""


def test_login_and_me(client, owner):
    resp = client.get("/api/v1/auth/me", headers=owner.headers)
    assert resp.status_code == 200
    body = resp.json
    assert body["success"] is True
    assert body["data"]["email"] == owner.email
    assert body["data"]["role"] == "OWNER"
    assert list(body)[0] == "success"


def test_team_roles(client, team):
    for role, account in team.items():
        assert client.get("/api/v1/auth/me", headers=account.headers).json["data"]["role"] == role
