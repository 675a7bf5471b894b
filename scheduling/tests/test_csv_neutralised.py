"""Every CSV the project writes neutralises text cells that a spreadsheet would run as a formula;
numbers stay numbers (docs/spec.md §10.1.6)."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from scheduling.csv_safe import SafeDictWriter, SafeWriter, neutralise
from scheduling.tests.factories import AvailabilityFactory, ResourceFactory, ResourceTypeFactory, UserFactory

EVIL = ['=HYPERLINK("http://x.example","open")', "+SUM(A1:A2)", "-1+cmd|' /C calc'!A0", "@SUM(1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("text", EVIL)
def test_text_that_starts_like_a_formula_gets_a_quote_in_front(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Anna", "", "2030-03-04T09:00:00+01:00", "Etc/GMT-5", "a=b", " =x"])
def test_other_text_is_written_unchanged(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("number", [-1, -0.5, 0, 12, Decimal("-3.25")])
def test_numbers_stay_numbers_even_when_negative(number):
    out = io.StringIO()
    SafeWriter(out).writerow([number])
    assert neutralise(number) == number
    assert out.getvalue() == f"{number}\n"


def test_text_that_looks_like_a_negative_number_is_text_and_is_prefixed():
    assert neutralise("-5") == "'-5"


def test_the_dict_writer_neutralises_every_cell_and_keeps_csv_quoting():
    out = io.StringIO()
    writer = SafeDictWriter(out, fieldnames=["name", "hours"])
    writer.writeheader()
    writer.writerow({"name": '=HYPERLINK("a","b")', "hours": -2.5})
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["name", "hours"], ["'=HYPERLINK(\"a\",\"b\")", "-2.5"]]


def test_no_module_writes_csv_except_through_csv_safe():
    root = Path(__file__).resolve().parents[2]
    writers = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(root))
        for path in [*root.joinpath("scheduling").rglob("*.py"), *root.joinpath("bench").rglob("*.py"), *root.joinpath("scheduling_site").rglob("*.py")]
        if path.name != "csv_safe.py" and "tests" not in path.parts and writers.search(path.read_text())
    ]
    assert offenders == []


# --- Through every CSV the project writes -------------------------------------------------------------


@pytest.fixture
def hostile(db):
    kind = ResourceTypeFactory(name="@SUM(1)")
    resource = ResourceFactory(name='=HYPERLINK("http://x.example","open")', type=kind, timezone="UTC")
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    ResourceFactory(name="-1+cmd", type=kind, timezone="UTC")
    return kind


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_availability_report_csv_neutralises_resource_and_type_names(hostile):
    out = io.StringIO()
    call_command("availability_report", "--from", "2030-03-04", "--to", "2030-03-04", "--format", "csv", stdout=out)
    rows = cells(out.getvalue())
    names = [(row[2], row[4]) for row in rows[1:]]
    assert names == [("'-1+cmd", "'@SUM(1)"), ("'=HYPERLINK(\"http://x.example\",\"open\")", "'@SUM(1)"), ("", "'@SUM(1)")]
    # The figures are numbers, written as numbers.
    assert rows[2][6] == "8.0"


def test_the_admin_csv_download_neutralises_names(client, hostile):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/scheduling/utilisation/", {"from": "2030-03-04", "to": "2030-03-04", "format": "csv"})
    rows = cells(response.content.decode())
    assert {row[2] for row in rows[1:]} == {"'-1+cmd", "'=HYPERLINK(\"http://x.example\",\"open\")", ""}
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_free_slots_csv_neutralises_resource_names(hostile):
    out = io.StringIO()
    call_command("free_slots", "--type", "@SUM(1)", "--on", "2030-03-04", "--duration", "480", "--step", "60", "--format", "csv", stdout=out)
    rows = cells(out.getvalue())
    assert sorted(set(row[1] for row in rows[1:])) == ["'-1+cmd", "'=HYPERLINK(\"http://x.example\",\"open\")"]
