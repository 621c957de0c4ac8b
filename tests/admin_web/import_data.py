"""Client tables to import: valid INNs, Russian phones, some duplicates and broken rows."""

from __future__ import annotations

from pathlib import Path

WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def legal_inn(n: int) -> str:
    """A checksum-valid 10-digit INN, different for each n."""
    body = f"77{n:07d}"
    control = sum(int(d) * w for d, w in zip(body, WEIGHTS_10, strict=True)) % 11 % 10
    return body + str(control)


def rows(count: int, *, start: int = 0) -> list[list[str]]:
    """Name; INN; phone; email; Loyalty — every 10th row without INN, every 50th broken."""
    result = []
    for i in range(start, start + count):
        inn = legal_inn(i) if i % 10 else ""
        phone = f"8 (916) {i // 10000 % 1000 + 100:03d}-{i % 10000 // 100:02d}-{i % 100:02d}"
        email = f"client{i}@example.ru"
        loyalty = ("Gold", "Silver", "Bronze")[i % 3]
        if i % 50 == 49:
            inn = "1234567890"  # a wrong checksum: this row fails
        result.append([f"ООО Клиент {i}", inn, phone, email, loyalty])
    return result


HEADERS = ["Наименование", "ИНН", "Телефон", "E-mail", "Loyalty"]


def write_csv(
    path: Path, data: list[list[str]], *, encoding: str = "utf-8", sep: str = ";"
) -> Path:
    lines = [sep.join(HEADERS)] + [sep.join(row) for row in data]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path
