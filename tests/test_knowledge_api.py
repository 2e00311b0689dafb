"""Knowledge base: CRUD, filters, CSV import with bad rows, roles, tenancy."""
import io

import pytest

API = "/api/v1"


def add(client, account, **fields):
    body = {"question": "Do you deliver?", "answer": "Yes, within 10 miles.", **fields}
    resp = client.post(f"{API}/knowledge", headers=account.headers, json=body)
    assert resp.status_code == 201, resp.json
    return resp.json["data"]


def upload(client, account, content: bytes, name="kb.csv"):
    return client.post(f"{API}/knowledge/import", headers=account.headers,
                       data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def test_create_read_update_delete(client, owner):
    item = add(client, owner, category="Delivery", questionVariations=["Can you deliver?", " can you deliver? ", ""],
               isPriority=True)
    assert item["id"].startswith("kb_")
    assert item["category"] == "delivery"
    assert item["questionVariations"] == ["Can you deliver?"]
    assert item["isPriority"] is True and item["isActive"] is True
    assert item["usageCount"] == 0 and item["lastUsedAt"] is None
    url = f"{API}/knowledge/{item['id']}"
    patched = client.patch(url, headers=owner.headers, json={"answer": "Yes, free over $50.", "isActive": False})
    assert patched.status_code == 200
    assert patched.json["data"]["answer"] == "Yes, free over $50." and patched.json["data"]["isActive"] is False
    assert client.get(url, headers=owner.headers).json["data"]["question"] == "Do you deliver?"
    assert client.delete(url, headers=owner.headers).status_code == 200
    assert client.get(url, headers=owner.headers).status_code == 404


@pytest.mark.parametrize("body", [
    {"answer": "no question"},
    {"question": "q", "answer": ""},
    {"question": "q", "answer": "a", "questionVariations": "not a list"},
    {"question": "q", "answer": "a", "questionVariations": ["v"] * 51},
    {"question": "x" * 1001, "answer": "a"},
    {"question": "q", "answer": "a", "usageCount": 5},
])
def test_validation(client, owner, body):
    resp = client.post(f"{API}/knowledge", headers=owner.headers, json=body)
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["code"] == "VALIDATION_ERROR"


def test_blank_after_strip_is_refused(client, owner):
    resp = client.post(f"{API}/knowledge", headers=owner.headers, json={"question": "   ", "answer": "a"})
    assert resp.status_code == 422


def test_filters_and_categories(client, owner):
    add(client, owner, category="hours", question="When are you open?", answer="9 to 5.")
    add(client, owner, category="pricing", question="How much is a cleaning?", answer="$120.",
        questionVariations=["What does a checkup cost?"])
    add(client, owner, category="pricing", question="How much is whitening?", answer="$350.", isActive=False)
    by_category = client.get(f"{API}/knowledge?category=pricing", headers=owner.headers).json
    assert by_category["pagination"]["total"] == 2
    by_variation = client.get(f"{API}/knowledge?search=checkup", headers=owner.headers).json["data"]
    assert [i["question"] for i in by_variation] == ["How much is a cleaning?"]
    by_answer = client.get(f"{API}/knowledge?search=9 to 5", headers=owner.headers).json["data"]
    assert [i["category"] for i in by_answer] == ["hours"]
    active = client.get(f"{API}/knowledge?isActive=false", headers=owner.headers).json["data"]
    assert [i["question"] for i in active] == ["How much is whitening?"]
    cats = client.get(f"{API}/knowledge/categories", headers=owner.headers).json["data"]
    assert cats == [{"category": "hours", "count": 1}, {"category": "pricing", "count": 2}]
    bad_sort = client.get(f"{API}/knowledge?sortBy=answer", headers=owner.headers)
    assert bad_sort.status_code == 422


def test_csv_import_reports_bad_rows(client, owner):
    add(client, owner, question="Do you deliver?")
    content = (
        "Question,Answer,Category,Question Variations,Is Priority\n"
        "Where are you?,214 Maple Avenue,location,What is your address?|How do I find you?,no\n"
        ",Missing question,general,,\n"
        "Do you deliver?,duplicate of an existing item,delivery,,\n"
        "Emergency?,Call us right away,urgent,,yes\n"
        "Bad flag,answer,general,,maybe\n"
        "\n"
        "\"Quoted, with comma\",\"Answer, also with comma\",general,,\n"
        "Too,many,cells,here,no,extra\n"
        "where are you?,duplicate within the file,location,,\n"
    ).encode("utf-8")
    resp = upload(client, owner, b"\xef\xbb\xbf" + content)
    assert resp.status_code == 200, resp.json
    result = resp.json["data"]
    assert result["imported"] == 3
    assert result["duplicates"] == 2
    assert result["errors"] == 3
    assert [e["row"] for e in result["errorRows"]] == [3, 6, 9]
    assert "required" in result["errorRows"][0]["error"]
    assert "maybe" in result["errorRows"][1]["error"]
    items = client.get(f"{API}/knowledge?search=Maple", headers=owner.headers).json["data"]
    assert items[0]["questionVariations"] == ["What is your address?", "How do I find you?"]
    assert items[0]["category"] == "location"
    urgent = client.get(f"{API}/knowledge?category=urgent", headers=owner.headers).json["data"]
    assert urgent[0]["isPriority"] is True
    quoted = client.get(f"{API}/knowledge?search=Quoted", headers=owner.headers).json["data"]
    assert quoted[0]["answer"] == "Answer, also with comma"


@pytest.mark.parametrize("content, message", [
    (b"foo,bar\n1,2\n", "header"),
    ("question,answer\nq,\u00e9".encode("latin-1"), "UTF-8"),
    (b"", "header"),
])
def test_csv_import_refuses_unusable_files(client, owner, content, message):
    resp = upload(client, owner, content)
    assert resp.status_code == 422, resp.json
    assert message in resp.json["error"]["message"]


def test_csv_import_refuses_a_huge_file(client, owner):
    content = b"question,answer\n" + b"q,a\n" * (5 * 1024 * 1024 // 4 + 10)
    resp = upload(client, owner, content)
    assert resp.status_code == 413 and resp.json["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert client.get(f"{API}/knowledge", headers=owner.headers).json["pagination"]["total"] == 0


def test_csv_import_needs_a_file_and_multipart(client, owner):
    missing = client.post(f"{API}/knowledge/import", headers=owner.headers, data={},
                          content_type="multipart/form-data")
    assert missing.status_code == 422
    as_json = client.post(f"{API}/knowledge/import", headers=owner.headers, json={"file": "question,answer"})
    assert as_json.status_code in (415, 422)


@pytest.mark.parametrize("role, can_read, can_write", [
    ("OWNER", True, True), ("ADMIN", True, True), ("MANAGER", True, True),
    ("AGENT", True, False), ("VIEWER", False, False)])
def test_roles(client, team, role, can_read, can_write):
    account = team[role]
    item = add(client, team["OWNER"])
    assert client.get(f"{API}/knowledge", headers=account.headers).status_code == (200 if can_read else 403)
    writes = [client.post(f"{API}/knowledge", headers=account.headers, json={"question": "q", "answer": "a"}),
              client.patch(f"{API}/knowledge/{item['id']}", headers=account.headers, json={"answer": "b"}),
              upload(client, account, b"question,answer\nq2,a2\n"),
              client.delete(f"{API}/knowledge/{item['id']}", headers=account.headers)]
    assert [r.status_code for r in writes] == ([201, 200, 200, 200] if can_write else [403] * 4)


def test_other_organization_answers_404(client, owner, accounts_api):
    item = add(client, owner)
    stranger = accounts_api.signup(org="Other Co")
    url = f"{API}/knowledge/{item['id']}"
    assert client.get(url, headers=stranger.headers).status_code == 404
    assert client.patch(url, headers=stranger.headers, json={"answer": "hijacked"}).status_code == 404
    assert client.delete(url, headers=stranger.headers).status_code == 404
    assert client.get(f"{API}/knowledge", headers=stranger.headers).json["data"] == []
    assert client.get(f"{API}/knowledge/categories", headers=stranger.headers).json["data"] == []
    assert client.get(url, headers=owner.headers).json["data"]["answer"] == "Yes, within 10 miles."
