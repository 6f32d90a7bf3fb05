from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest

from lanner.inputs import CoercionError, Upload, coerce_value
from lanner.inputs.coercion import display_value

MOMENT = datetime(2019, 10, 6, 18, 27, 49, tzinfo=UTC)


@pytest.mark.parametrize(
    ("type_name", "value", "expected"),
    [
        pytest.param("INT", "42", 42, id="int-oracle"),
        pytest.param("FLOAT", "42.42", 42.42, id="float-oracle"),
        pytest.param("JSON", "{}", {}, id="json-empty-object-oracle"),
        pytest.param("STRING", "hello", "hello", id="string"),
        pytest.param("INT", "-7", -7, id="int-negative"),
        pytest.param("FLOAT", "1e3", 1000.0, id="float-exponent"),
        pytest.param("FLOAT", "3", 3.0, id="float-from-integer-text"),
        pytest.param("BOOLEAN", "true", True, id="boolean-true"),
        pytest.param("BOOLEAN", "TRUE", True, id="boolean-any-case"),
        pytest.param("BOOL", "True", True, id="bool"),
        pytest.param("BOOLEAN", "false", False, id="boolean-false"),
        pytest.param("BOOLEAN", "yes", False, id="boolean-anything-else"),
        pytest.param("DATETIME", "2019-10-06T18:27:49Z", MOMENT, id="datetime-utc"),
        pytest.param("DATETIME", "2019-10-06T20:27:49+02:00", MOMENT, id="datetime-offset"),
        pytest.param("DATETIME", "2019-10-06T18:27:49", MOMENT, id="datetime-naive-is-utc"),
        pytest.param("DATE", "2019-10-06", date(2019, 10, 6), id="date"),
        pytest.param("TIME", "18:27:49", time(18, 27, 49), id="time"),
        pytest.param("DURATION", "PT5M6S", timedelta(minutes=5, seconds=6), id="duration"),
        pytest.param("JSON", '{"a": [1, 2]}', {"a": [1, 2]}, id="json-object"),
        pytest.param("JSON", "[1, 2]", [1, 2], id="json-array"),
        pytest.param("JSON", '"text"', "text", id="json-string"),
        pytest.param("YAML", "a: 1\nb: [x, y]\n", {"a": 1, "b": ["x", "y"]}, id="yaml"),
        pytest.param("URI", "https://kestra.io/docs?x=1", "https://kestra.io/docs?x=1", id="uri"),
        pytest.param("URI", "http://localhost:8080", "http://localhost:8080", id="uri-no-dot"),
        pytest.param("SECRET", "s3cr3t", "s3cr3t", id="secret"),
        pytest.param("EMAIL", "a@b.io", "a@b.io", id="email"),
        pytest.param("SELECT", "A", "A", id="select"),
        pytest.param("ENUM", "A", "A", id="enum"),
        pytest.param("MULTISELECT", '["A", "B"]', ["A", "B"], id="multiselect"),
        pytest.param("ARRAY", "[1, 2, 3]", [1, 2, 3], id="array-untyped"),
        pytest.param("FILE", "kestra:///ns/f/x.csv", "kestra:///ns/f/x.csv", id="file-uri"),
    ],
)
def test_coerce_a_submitted_string(type_name: str, value: str, expected: Any) -> None:
    assert coerce_value(type_name, value) == expected


@pytest.mark.parametrize(
    ("type_name", "value", "expected"),
    [
        pytest.param("INT", 42, 42, id="int"),
        pytest.param("FLOAT", 2, 2.0, id="float-from-int"),
        pytest.param("BOOLEAN", False, False, id="boolean"),
        pytest.param("STRING", 42, "42", id="string-from-int"),
        pytest.param("STRING", True, "true", id="string-from-bool"),
        pytest.param("JSON", {"a": 1}, {"a": 1}, id="json-map"),
        pytest.param("YAML", [1, 2], [1, 2], id="yaml-list"),
        pytest.param("ARRAY", (1, 2), [1, 2], id="array-tuple"),
        pytest.param("DATETIME", datetime(2019, 10, 6, 18, 27, 49), MOMENT, id="datetime"),
        pytest.param("DATE", date(2019, 10, 6), date(2019, 10, 6), id="date"),
        pytest.param("TIME", time(1, 2), time(1, 2), id="time"),
        pytest.param("DURATION", timedelta(seconds=3), timedelta(seconds=3), id="duration"),
    ],
)
def test_coerce_a_native_value(type_name: str, value: Any, expected: Any) -> None:
    assert coerce_value(type_name, value) == expected


def test_datetime_comes_back_in_utc() -> None:
    value = coerce_value("DATETIME", "2019-10-06T20:27:49+02:00")
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    ("item_type", "value", "expected"),
    [
        pytest.param("INT", "[1, 2, 3]", [1, 2, 3], id="int-oracle"),
        pytest.param("INT", '["1", "2"]', [1, 2], id="int-from-strings"),
        pytest.param("STRING", "[1, true]", ["1", "true"], id="string"),
        pytest.param("DATE", '["2019-10-06"]', [date(2019, 10, 6)], id="date"),
        pytest.param("JSON", '[{"a": 1}]', [{"a": 1}], id="json"),
        pytest.param("INT", [4, "5"], [4, 5], id="native-list"),
        pytest.param("INT", "[]", [], id="empty"),
    ],
)
def test_coerce_an_array(item_type: str, value: Any, expected: list[Any]) -> None:
    assert coerce_value("ARRAY", value, item_type=item_type) == expected


@pytest.mark.parametrize(
    ("type_name", "value", "item_type", "reason"),
    [
        pytest.param("INT", "abc", None, "Expected `INT` but received `abc`", id="int"),
        pytest.param("INT", "4.2", None, "Expected `INT` but received `4.2`", id="int-decimal"),
        pytest.param("INT", True, None, "Expected `INT` but received `true`", id="int-bool"),
        pytest.param("FLOAT", "x1", None, "Expected `FLOAT` but received `x1`", id="float"),
        pytest.param("DATETIME", "now", None, "Expected `DATETIME` but received `now`", id="dt"),
        pytest.param("DATE", "2019-13-01", None, "Expected `DATE` but received", id="date"),
        pytest.param("TIME", "25:00", None, "Expected `TIME` but received `25:00`", id="time"),
        pytest.param("TIME", "10:00+01:00", None, "Expected `TIME` but", id="time-offset"),
        pytest.param("DURATION", "5 min", None, "Expected `DURATION` but", id="duration"),
        pytest.param("JSON", "{", None, "Expected `JSON` but received `{`", id="json"),
        pytest.param("YAML", "a: [", None, "Expected `YAML` but received `a: [`", id="yaml"),
        pytest.param("URI", "http:/bla", None, "Expected `URI` but received `http:/bla`", id="uri"),
        pytest.param("URI", "bla", None, "Expected `URI` but received `bla`", id="uri-no-scheme"),
        pytest.param("ARRAY", "{}", "INT", "Expected `ARRAY` but received `{}`", id="array-map"),
        pytest.param("ARRAY", "[1", "INT", "Expected `ARRAY` but received `[1`", id="array-bad"),
        pytest.param(
            "ARRAY",
            '["s1"]',
            "INT",
            "Unable to parse array element as `INT` on `s1`",
            id="array-element",
        ),
        pytest.param("FILE", "/etc/passwd", None, "Expected `FILE` but", id="file-path"),
    ],
)
def test_coercion_failures_say_why(
    type_name: str, value: Any, item_type: str | None, reason: str
) -> None:
    with pytest.raises(CoercionError) as caught:
        coerce_value(type_name, value, item_type=item_type)
    assert caught.value.reason.startswith(reason)


def test_file_upload_is_stored() -> None:
    stored: list[Upload] = []

    def store(upload: Upload) -> str:
        stored.append(upload)
        return f"kestra:///uploads/{upload.filename}"

    upload = Upload(filename="data.csv", data=b"a,b\n")
    assert coerce_value("FILE", upload, store=store) == "kestra:///uploads/data.csv"
    assert stored == [upload]


def test_file_upload_without_storage_is_refused() -> None:
    with pytest.raises(CoercionError, match=r"the file `data.csv` cannot be uploaded here"):
        coerce_value("FILE", Upload(filename="data.csv", data=b"x"))


def test_unknown_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="Invalid type: NUMBER"):
        coerce_value("NUMBER", "1")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, "null", id="null"),
        pytest.param(True, "true", id="bool"),
        pytest.param(10, "10", id="int"),
        pytest.param(10.0, "10.0", id="float"),
        pytest.param(["A", "B"], "[A, B]", id="list"),
        pytest.param({"a": 1}, "{a=1}", id="map"),
        pytest.param(datetime(2023, 12, 24, tzinfo=UTC), "2023-12-24T00:00:00Z", id="instant"),
        pytest.param(
            datetime(2023, 12, 24, 1, tzinfo=timezone(timedelta(hours=1))),
            "2023-12-24T00:00:00Z",
            id="instant-offset",
        ),
        pytest.param(
            datetime(2023, 1, 1, 0, 0, 0, 120000, UTC), "2023-01-01T00:00:00.120Z", id="ms"
        ),
        pytest.param(date(2023, 12, 24), "2023-12-24", id="date"),
        pytest.param(time(18, 27), "18:27", id="time-without-seconds"),
        pytest.param(time(18, 27, 49), "18:27:49", id="time"),
        pytest.param(time(18, 27, 49, 5), "18:27:49.000005", id="time-micro"),
        pytest.param(timedelta(minutes=5), "PT5M", id="duration"),
        pytest.param(Upload("f.txt", b""), "f.txt", id="upload"),
        pytest.param(b"abc", "<3 bytes>", id="bytes"),
    ],
)
def test_display_value_prints_like_java(value: Any, expected: str) -> None:
    assert display_value(value) == expected
