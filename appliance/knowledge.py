"""The knowledge base: questions callers ask and the business's answers, with CSV import."""
from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field

from peewee import fn

from appliance.errors import NotFound, PayloadTooLarge, ValidationError
from data.ai import KnowledgeItem
from data.base import utcnow
from data.db import database

logger = logging.getLogger(__name__)

MAX_QUESTION = 1000
MAX_ANSWER = 5000
MAX_CATEGORY = 64
MAX_VARIATIONS = 50
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000
MAX_ERROR_ROWS = 200

# CSV header (lower-cased, without spaces/underscores/dashes) → field.
_HEADERS = {
    "question": "question", "answer": "answer", "category": "category",
    "questionvariations": "variations", "variations": "variations", "alternatives": "variations",
    "ispriority": "priority", "priority": "priority", "isactive": "active", "active": "active",
}
_TRUE = {"1", "true", "yes", "y", "x"}
_FALSE = {"", "0", "false", "no", "n"}
_VARIATION_SPLIT = re.compile(r"[|\n]")


def get(org_id: str, item_id: str) -> KnowledgeItem:
    """One item of the organization; ``NotFound`` for another organization's."""
    row = KnowledgeItem.get_or_none((KnowledgeItem.id == item_id) & (KnowledgeItem.organization == org_id))
    if row is None:
        raise NotFound("No knowledge item with this id")
    return row


def clean_variations(values: list[str]) -> list[str]:
    """Stripped, non-empty, de-duplicated (case-insensitively), in the given order."""
    seen, result = set(), []
    for value in values:
        text = " ".join(str(value).split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    return result


def _key(question: str) -> str:
    return " ".join(question.split()).casefold()


_COLUMNS = {"category": "category", "question": "question", "answer": "answer",
            "questionVariations": "question_variations", "isPriority": "is_priority", "isActive": "is_active"}


def _apply(row: KnowledgeItem, body: dict) -> None:
    for key, value in body.items():
        if key == "questionVariations":
            value = clean_variations(value)
        elif key == "category":
            value = value.strip().lower() or "general"
        elif isinstance(value, str):
            value = value.strip()
        setattr(row, _COLUMNS[key], value)
    if not row.question or not row.answer:
        raise ValidationError("question and answer must not be blank")


def create(org_id: str, body: dict) -> KnowledgeItem:
    """A new knowledge item."""
    row = KnowledgeItem(organization=org_id)
    _apply(row, body)
    row.save(force_insert=True)
    return row


def update(row: KnowledgeItem, body: dict) -> KnowledgeItem:
    """Change some fields of an item."""
    _apply(row, body)
    row.updated_at = utcnow()
    row.save()
    return row


def categories(org_id: str) -> list[dict]:
    """Categories in use with their item counts."""
    query = (KnowledgeItem.select(KnowledgeItem.category, fn.COUNT(KnowledgeItem.id).alias("n"))
             .where(KnowledgeItem.organization == org_id).group_by(KnowledgeItem.category)
             .order_by(KnowledgeItem.category))
    return [{"category": r.category, "count": r.n} for r in query]


def active_items(org_id: str) -> list[KnowledgeItem]:
    """What the dialog engine answers from."""
    return list(KnowledgeItem.select().where((KnowledgeItem.organization == org_id) & KnowledgeItem.is_active)
                .order_by(KnowledgeItem.created_at, KnowledgeItem.id))


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    error_rows: list[dict] = field(default_factory=list)
    errors: int = 0

    def as_dict(self) -> dict:
        """The API's import report."""
        return {"imported": self.imported, "duplicates": self.duplicates, "errors": self.errors,
                "errorRows": self.error_rows}

    def fail(self, line: int, message: str) -> None:
        """Count a bad row; the first ``MAX_ERROR_ROWS`` are reported with their line."""
        self.errors += 1
        if len(self.error_rows) < MAX_ERROR_ROWS:
            self.error_rows.append({"row": line, "error": message})


def _flag(value: str | None, default: bool, name: str) -> bool:
    text = (value or "").strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _parse_row(raw: dict, mapping: dict[str, str]) -> dict:
    values = {name: (raw.get(header) or "").strip() for header, name in mapping.items()}
    question, answer = " ".join(values.get("question", "").split()), values.get("answer", "")
    category = values.get("category", "").lower() or "general"
    if not question or not answer:
        raise ValueError("question and answer are required")
    if len(question) > MAX_QUESTION or len(answer) > MAX_ANSWER or len(category) > MAX_CATEGORY:
        raise ValueError(f"too long (question ≤ {MAX_QUESTION}, answer ≤ {MAX_ANSWER}, "
                         f"category ≤ {MAX_CATEGORY} characters)")
    variations = clean_variations(_VARIATION_SPLIT.split(values.get("variations", "")))
    if len(variations) > MAX_VARIATIONS or any(len(v) > MAX_QUESTION for v in variations):
        raise ValueError(f"at most {MAX_VARIATIONS} questionVariations of ≤ {MAX_QUESTION} characters each")
    return {"question": question, "answer": answer, "category": category, "question_variations": variations,
            "is_priority": _flag(values.get("priority"), False, "isPriority"),
            "is_active": _flag(values.get("active"), True, "isActive")}


def _reader(data: bytes) -> tuple[csv.DictReader, dict[str, str]]:
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"The CSV file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("The file is not UTF-8 text; save the spreadsheet as CSV UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        headers = reader.fieldnames or []
    except csv.Error as exc:
        raise ValidationError(f"The file is not valid CSV: {exc}") from exc
    mapping = {h: _HEADERS[k] for h in headers if (k := re.sub(r"[\s_\-]", "", (h or "").lower())) in _HEADERS}
    if not {"question", "answer"} <= set(mapping.values()):
        raise ValidationError("The CSV needs a header row with at least the columns question and answer "
                              "(optional: category, questionVariations separated by |, isPriority, isActive)",
                              {"headers": headers})
    return reader, mapping


def import_csv(org_id: str, data: bytes) -> ImportResult:
    """Import knowledge items from CSV; good rows are stored, bad rows reported with their line number."""
    reader, mapping = _reader(data)
    result, rows = ImportResult(), []
    seen = {_key(q) for (q,) in KnowledgeItem.select(KnowledgeItem.question)
            .where(KnowledgeItem.organization == org_id).tuples()}
    try:
        for index, raw in enumerate(reader):
            line = reader.line_num
            if index >= MAX_IMPORT_ROWS:
                result.fail(line, f"more than {MAX_IMPORT_ROWS} rows: the rest of the file was not read")
                break
            _collect(raw, mapping, line, seen, rows, result)
    except csv.Error as exc:
        result.fail(reader.line_num, f"not valid CSV: {exc}")
    _store(org_id, rows)
    result.imported = len(rows)
    logger.info("knowledge import into %s: %d imported, %d duplicates, %d errors",
                org_id, result.imported, result.duplicates, result.errors)
    return result


def _collect(raw: dict, mapping: dict, line: int, seen: set, rows: list, result: ImportResult) -> None:
    if None in raw:
        result.fail(line, "more cells than header columns (quote text that contains commas)")
        return
    if not any((v or "").strip() for v in raw.values()):
        return  # blank lines are not errors
    try:
        parsed = _parse_row(raw, mapping)
    except ValueError as exc:
        result.fail(line, str(exc))
        return
    if _key(parsed["question"]) in seen:
        result.duplicates += 1
        return
    seen.add(_key(parsed["question"]))
    rows.append(parsed)


def _store(org_id: str, rows: list[dict]) -> None:
    now = utcnow()
    with database.atomic():
        for start in range(0, len(rows), 200):
            batch = [KnowledgeItem(organization=org_id, created_at=now, updated_at=now, **row)
                     for row in rows[start:start + 200]]
            KnowledgeItem.bulk_create(batch)
