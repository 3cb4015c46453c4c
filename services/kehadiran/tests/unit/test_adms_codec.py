"""The ADMS codec on its own: what devices send, parsed line by line, never raising."""
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehadiran.adapters import adms

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 28, 12, 0, 0)


def test_attlog_lines_of_5_to_12_fields_with_lf_and_crlf():
    body = (b"100\t2026-11-27 07:25:01\t0\t1\t0\t0\t0\r\n"           # 7 fields, CRLF
            b"101\t2026-11-27 07:26:02\t1\t15\t0\n"                   # 5 fields (old firmware)
            b"102\t2026-11-27 07:27:03\t255\t1\t0\t0\t0\t0\t36.5\t0\t7\tx\n"  # 12 fields
            b"\n")
    parsed = adms.parse_attlog(body, now_local=NOW)
    assert parsed.errors == []
    assert [(r.pin, r.time, r.status, r.status_code, r.verify) for r in parsed.records] == [
        ("100", datetime(2026, 11, 27, 7, 25, 1), None, 0, 1),
        ("101", datetime(2026, 11, 27, 7, 26, 2), "out", 1, 15),
        ("102", datetime(2026, 11, 27, 7, 27, 3), None, 255, 1),
    ]
    assert [r.line_no for r in parsed.records] == [1, 2, 3]


@pytest.mark.parametrize("code, direction", [(0, None), (1, "out"), (2, None), (3, None), (4, None),
                                             (5, None), (255, None), (None, None)])
def test_status_codes(code, direction):
    assert adms.status_direction(code) == direction


@pytest.mark.parametrize("line, reason", [
    ("100\t2026-11-27 07:25:01\t0\t1", "expected 5 to 12"),                       # 4 fields
    ("100\t2026-11-27 07:25:01\t0\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0", "expected 5 to 12"),  # 13
    ("\t2026-11-27 07:25:01\t0\t1\t0", "PIN"),
    ("1 00\t2026-11-27 07:25:01\t0\t1\t0", "PIN"),
    ("100\t2026-11-27T07:25:01\t0\t1\t0", "TIME"),
    ("100\t2026-13-27 07:25:01\t0\t1\t0", "TIME"),
    ("100\t27/11/2026 07:25\t0\t1\t0", "TIME"),
    ("100\t1999-12-31 23:59:59\t0\t1\t0", "before 2000"),
    ("100\t2026-11-29 12:00:01\t0\t1\t0", "future"),
    ("100\t2026-11-27 07:25:01\tin\t1\t0", "STATUS"),
    ("100\t2026-11-27 07:25:01\t0\tfinger\t0", "VERIFY"),
])
def test_malformed_lines_are_reported_with_a_reason(line, reason):
    good = "7\t2026-11-27 07:00:00\t0\t1\t0\t0\t0"
    parsed = adms.parse_attlog(f"{good}\n{line}\n{good}\n", now_local=NOW)
    assert len(parsed.records) == 2
    [bad] = parsed.errors
    assert bad.line_no == 2 and reason in bad.reason and bad.text == line


def test_a_day_ahead_is_still_accepted_clock_skew():
    parsed = adms.parse_attlog("1\t2026-11-29 11:59:59\t0\t1\t0\n", now_local=NOW)
    assert len(parsed.records) == 1


@given(st.lists(st.sampled_from(["1\t2026-11-29 11:59:59\t0\t1\t0",   # a day ahead: kept
                                  "2\t2026-11-29 12:00:01\t0\t1\t0",   # past it: refused
                                  "3\t2026-12-30 08:00:00\t1\t1\t0\t0\t0",
                                  "4\t2026-11-27 07:00:00\t0\t1\t0",
                                  "5\tnot a time\t0\t1\t0", "", "6\t1999-12-31 23:59:59\t0\t1\t0"]),
                max_size=12), st.sampled_from([b"\n", b"\r\n"]))
def test_the_clock_check_after_the_parse_is_the_parse_with_the_clock(lines, end):
    # the upload parses before its transaction and checks the device's clock inside it
    body = end.join(line.encode() for line in lines) + end
    assert adms.drop_ahead(adms.parse_attlog(body), body, NOW) == adms.parse_attlog(body, now_local=NOW)


def test_empty_status_and_verify_are_none():
    [r] = adms.parse_attlog("1\t2026-11-27 07:00:00\t\t\t\n").records
    assert r.status is None and r.status_code is None and r.verify is None and r.workcode is None


def test_operlog_user_names_in_gb2312_and_utf8():
    body = ("USER PIN=1\tName=王小明\tPri=0\tPasswd=123\tCard=\tGrp=1\tTZ=0000000100000000\n".encode("gb2312")
            + "USER PIN=2\tName=Budi Śantoso\tPri=14\tPasswd=\tCard=[1234]\tGrp=1\r\n".encode("utf-8")
            + b"OPLOG 4\t0\t2026-11-27 08:00:00\t0\t0\t0\t0\n"
            + b"FP PIN=1\tFID=6\tSize=1184\tValid=1\tTMP=ocoRE...\n"
            + b"FACE PIN=1\tFID=0\tSIZE=1648\tVALID=1\tTMP=AAAA\n"
            + b"USERPIC PIN=1\tFileName=1.jpg\tSize=10\tContent=AAAA\n"
            + b"USER Name=nobody\n"
            + b"WHAT 1\n"
            + b"OPLOG 4\t0\tyesterday\n")
    parsed = adms.parse_operlog(body)
    kinds = [r.kind for r in parsed.records]
    assert kinds == ["USER", "USER", "OPLOG", "FP", "FACE", "USERPIC"]
    users = [adms.user_of(r) for r in parsed.records if r.kind == "USER"]
    assert [(u.pin, u.name, u.privilege, u.card) for u in users] == [
        ("1", "王小明", 0, None), ("2", "Budi Śantoso", 14, "[1234]")]
    oplog = parsed.records[2].values
    assert oplog["op"] == "4" and oplog["time"] == "2026-11-27 08:00:00"
    assert [e.line_no for e in parsed.errors] == [7, 8, 9]


def test_a_declared_charset_wins_and_gb2312_reads_as_gb18030():
    # the GB2312 bytes of 郑叶 happen to be valid UTF-8 as well: only a declared charset tells them apart
    raw = "USER PIN=3\tName=郑叶\n".encode("gb2312")
    assert adms.user_of(adms.parse_operlog(raw, "GB2312").records[0]).name == "郑叶"
    assert adms.user_of(adms.parse_operlog(raw, "nonsense").records[0]).name == "郑叶".encode("gb2312").decode("utf-8")
    # most GB2312 names are not valid UTF-8 and need no declaration
    assert adms.user_of(adms.parse_operlog("USER PIN=3\tName=陈伟\n".encode("gb2312")).records[0]).name == "陈伟"
    assert adms.known_charset("gbk") == "gb18030" and adms.known_charset("UTF-8") == "utf-8"
    assert adms.known_charset(None) is None and adms.known_charset("nonsense") is None


def test_options_values_may_contain_commas():
    body = b"~DeviceName=iClock 680,MAC=00:17:61:12:34:56,~OEMVendor=ZK, Inc.,TransactionCount=1234,FPCount=10"
    opts = adms.parse_options(body)
    assert opts == {"~DeviceName": "iClock 680", "MAC": "00:17:61:12:34:56", "~OEMVendor": "ZK, Inc.",
                    "TransactionCount": "1234", "FPCount": "10"}


def test_options_on_several_lines():
    assert adms.parse_options("A=1,B=2\r\nC=x,y\n") == {"A": "1", "B": "2", "C": "x,y"}


def test_info_of_getrequest():
    info = adms.parse_info("Ver 8.0.4.2-20220301,12,10,1234,192.168.1.201,10,7,12,12,111")
    assert (info.firmware, info.user_count, info.fp_count, info.log_count, info.ip) == (
        "Ver 8.0.4.2-20220301", 12, 10, 1234, "192.168.1.201")
    short = adms.parse_info("Ver 6.60,x")
    assert short.firmware == "Ver 6.60" and short.user_count is None and short.ip is None
    assert adms.parse_info(None) is None and adms.parse_info("") is None


def test_options_reply_and_both_stamp_spellings():
    reply = adms.options_reply("0316144680030", tz_offset_minutes=480, attlog_stamp="1234")
    lines = reply.splitlines()
    assert lines[0] == "GET OPTION FROM: 0316144680030"
    opts = adms.parse_option_lines(reply)
    assert opts["_sn"] == "0316144680030"
    assert opts["ATTLOGStamp"] == "1234" and opts["OPERLOGStamp"] == "9999"
    assert opts["TimeZone"] == "8" and opts["Realtime"] == "1" and opts["Encrypt"] == "None"
    assert opts["TransFlag"] == "TransData AttLog\tOpLog\tEnrollUser\tChgUser"
    for key in ("ErrorDelay", "Delay", "TransTimes", "TransInterval", "ServerVer"):
        assert key in opts
    old = adms.parse_option_lines(b"GET OPTION FROM: X\r\nStamp=82983982\r\nOpStamp=9999\r\nDelay=30\r\n")
    assert old["ATTLOGStamp"] == "82983982" and old["OPERLOGStamp"] == "9999" and old["Delay"] == "30"
    assert adms.parse_option_lines(adms.options_reply("X", tz_offset_minutes=420))["ATTLOGStamp"] == "None"


def test_timezone_option_whole_hours_or_minutes():
    assert [adms.timezone_option(m) for m in (420, 480, 540, 330)] == [7, 8, 9, 330]


def test_stamp_from_upload_query():
    assert adms.stamp_of({"Stamp": "99"}, "ATTLOG") == "99"
    assert adms.stamp_of({"OpStamp": "5"}, "OPERLOG") == "5"
    assert adms.stamp_of({"Stamp": "7"}, "OPERLOG") == "7"
    assert adms.stamp_of({}, "ATTLOG") is None


def test_devicecmd_results():
    parsed = adms.parse_devicecmd(b"ID=12&Return=0&CMD=DATA\r\nID=13&Return=-1002&CMD=CHECK\nID=x&Return=0\nID=14\n")
    assert [(r.id, r.return_code, r.command) for r in parsed.records] == [(12, 0, "DATA"), (13, -1002, "CHECK")]
    assert [(e.line_no, e.reason) for e in parsed.errors] == [(3, "ID=<number> missing"),
                                                               (4, "Return=<number> missing")]


def test_devicecmd_info_reply_keeps_its_data():
    body = b"ID=13&Return=0&CMD=INFO\n~DeviceName=SpeedFace-V5L\nMAC=00:17:61:12:34:56\nUserCount=12\n"
    [res] = adms.parse_devicecmd(body).records
    assert res.id == 13 and res.values["~DeviceName"] == "SpeedFace-V5L" and res.values["UserCount"] == "12"
    assert adms.parse_devicecmd(b"~DeviceName=x\n").errors[0].reason == "ID=<number> missing"


def test_commands_formatting():
    assert adms.command_lines([]) == "OK"
    assert adms.command_lines([(12, "CHECK"), (13, "INFO")]) == "C:12:CHECK\nC:13:INFO\n"
    assert adms.format_ok(3) == "OK:3"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_no_input_makes_a_parser_raise(body):
    att = adms.parse_attlog(body, now_local=NOW)
    lines = len(list(adms.iter_lines(body)))
    assert len(att.records) + len(att.errors) == lines
    op = adms.parse_operlog(body)
    assert len(op.records) + len(op.errors) == lines
    adms.parse_options(body)
    adms.parse_option_lines(body)
    cmd = adms.parse_devicecmd(body)
    assert len(cmd.records) + len(cmd.errors) == lines


@pytest.mark.parametrize("body, pin", [
    (b"7\t2026-03-02 07:30:00\t0\t1\t0\t0\t0\n", "7"),
    (b"007\t2026-03-02 07:30:00\t0\t1\t0\t0\t0\r\n", "007"),
    (b"A12 \t2026-03-02 07:30:00\t0\t1\t0\t0\t0", "A12"),
    (b"7\t2026-03-02 07:30:00\t0\t1\t0\t0\t0\n8\t2026-03-02 07:31:00\t0\t1\t0\t0\t0\n", None),  # two lines
    (b"", None),
    (b"\n", None),
    (b"bad pin!\t2026-03-02 07:30:00\t0\t1\t0\t0\t0\n", None),
    ("\u00e9\t2026-03-02 07:30:00\t0\t1\t0\t0\t0\n".encode(), None),
    (b"1" * 40 + b"\t2026-03-02 07:30:00\t0\t1\t0\t0\t0\n", None),
])
def test_a_one_line_uploads_pin_is_read_ahead_only_when_it_is_one_valid_pin(body, pin):
    assert adms.single_line_pin(body) == pin


def _lines_as_before(body: str):
    """``iter_lines`` of a decoded body as it was before the clean body's short way (a control
    character or BOM replaced line by line): the reference its short way is held to."""
    import re

    for number, text in enumerate(body.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "\ufffd", text.lstrip("\ufeff"))
        if text.strip():
            yield number, text


def _int_as_before(text: str):
    text = text.strip()
    if text == "":
        return True, None
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        return False, None
    value = int(text)
    return (True, value) if -(2**31) <= value <= 2**31 - 1 else (False, None)


PIECES = st.sampled_from(["100", "\t", "\n", "\r\n", "\r", "2026-11-27 07:25:01", "0", "15", " ", "\x00", "\x1f",
                          "\x7f", "\ufeff", "\u0663", "\u00b2", "-1", "+7", "2147483647", "2147483648", "9999999999",
                          "0000000001", "", "x"])


@given(st.lists(PIECES, max_size=40))
@settings(max_examples=400, deadline=None)
def test_lines_and_numbers_read_as_before(pieces):
    body = "".join(pieces)
    assert list(adms.iter_lines(body)) == list(_lines_as_before(body))
    assert list(adms.iter_lines(body.encode())) == list(_lines_as_before(body))
    from kehadiran.adapters.adms.lines import int_or_none

    for field in [body, *body.split("\t")]:
        assert int_or_none(field) == _int_as_before(field), field
