import pytest

from kinerja.cli.demo import demo_roster, roster_csv
from kinerja.cli.roster import parse_roster

pytestmark = pytest.mark.unit
HEADER = "nip,nama,agency,unit,jabatan,atasan_nip,pin\n"


def test_bad_rows_are_reported_by_line_and_skipped():
    text = HEADER + "\n".join([
        "198503122010011001,Budi,disdik,Sekretariat,Kepala,,1",         # line 2 ok
        "12345,Citra,disdik,Sekretariat,Staf,198503122010011001,2",     # line 3 bad NIP
        "198601012011012002,,disdik,Sekretariat,Staf,,3",               # line 4 no name
        "198503122010011001,Budi Lagi,disdik,Sekretariat,Staf,,4",      # line 5 duplicate
        "198701012012011003,Dewi,disdik,Sekretariat,Staf,198503122010011001,x",  # line 6 bad pin
        "198801012013012004,Eko,disdik,Sekretariat,Staf,198503122010011001,5",   # line 7 ok
    ]) + "\n"
    parsed = parse_roster(text)
    assert [e.data["nip"] for e in parsed.events] == ["198503122010011001", "198801012013012004"]
    assert [line for line, _ in parsed.errors] == [3, 4, 5, 6]
    assert "18 digits" in parsed.errors[0][1]
    assert "duplicate of line 2" in parsed.errors[2][1]


def test_missing_columns_are_refused_whole():
    parsed = parse_roster("nip,nama\n198503122010011001,Budi\n")
    assert parsed.events == [] and parsed.errors[0][0] == 1 and "agency" in parsed.errors[0][1]


def test_demo_roster_is_valid_and_has_a_hierarchy():
    rows = demo_roster(50)
    parsed = parse_roster(roster_csv(rows))
    assert parsed.errors == [] and len(parsed.events) == 50
    nips = {r["nip"] for r in rows}
    assert len(nips) == 50
    assert all(r["atasan_nip"] in nips for r in rows[1:])
    assert len({r["unit"] for r in rows}) == 4


def test_the_optional_tpp_column():
    header = "nip,nama,agency,unit,jabatan,atasan_nip,pin,tpp\n"
    parsed = parse_roster(header + "\n".join([
        "198503122010011001,Budi,disdik,Sekretariat,Kepala,,1,7500000",   # line 2
        "198601012011012002,Citra,disdik,Sekretariat,Staf,,2,",            # line 3: none given
        "198701012012011003,Dewi,disdik,Sekretariat,Staf,,3,7.500.000",   # line 4: not whole rupiah digits
        "198901012014012005,Fitri,disdik,Sekretariat,Staf,,5,2000000000",  # line 5: too much
    ]) + "\n")
    assert [line for line, _ in parsed.errors] == [4, 5]
    assert "whole number of rupiah" in parsed.errors[0][1] and "tpp" in parsed.errors[1][1]
    first, second = parsed.events
    assert first.data["tpp"] == 7_500_000
    assert second.data.get("tpp") is None
    # the column stays optional: the seven-column file of before still parses
    assert parse_roster(HEADER + "198503122010011001,Budi,disdik,Sekretariat,Kepala,,1\n").errors == []


def test_the_optional_email_column():
    header = "nip,nama,agency,unit,jabatan,atasan_nip,pin,email\n"
    parsed = parse_roster(header + "\n".join([
        "198503122010011001,Budi,disdik,Sekretariat,Kepala,,1,budi@disdik.lampungselatankab.go.id",  # line 2
        "198601012011012002,Citra,disdik,Sekretariat,Staf,,2,",                  # line 3: none given
        "198701012012011003,Dewi,disdik,Sekretariat,Staf,,3,dewi at disdik",     # line 4: not an address
        "198901012014012005,Fitri,disdik,Sekretariat,Staf,,5," + "f" * 250 + "@x.id",  # line 5: too long
    ]) + "\n")
    assert [line for line, _ in parsed.errors] == [4, 5]
    assert all(msg.startswith("email:") for _, msg in parsed.errors)
    first, second = parsed.events
    assert first.data["email"] == "budi@disdik.lampungselatankab.go.id"
    assert second.data.get("email") is None
    # still optional: the seven-column file of before parses, and carries no address
    assert parse_roster(HEADER + "198503122010011001,Budi,disdik,Sekretariat,Kepala,,1\n").events[0].data.get("email") is None


def test_an_agencys_time_zone_by_its_label_or_iana_name():
    text = ("nip,nama,agency,unit,jabatan,atasan_nip,pin,timezone\n"
            "198503122010011001,Budi,dinkes-sorong,Umum,Staf,,1,WIT\n"
            "198503122010011002,Sari,dinkes-sorong,Umum,Staf,,2,asia/jayapura\n"
            "198503122010011003,Ani,dinkes-sorong,Umum,Staf,,3,\n"
            "198503122010011004,Eko,disdik-makassar,Umum,Staf,,4,wita\n"
            "198503122010011005,Dedi,disdik-makassar,Umum,Staf,,5,WIB\n"
            "198503122010011006,Rina,disdik-x,Umum,Staf,,6,PST\n")
    parsed = parse_roster(text)
    zones = {e.data["nip"][-1]: e.data.get("timezone") for e in parsed.events}
    assert zones == {"1": "Asia/Jayapura", "2": "Asia/Jayapura", "3": None, "4": "Asia/Makassar"}
    assert [line for line, _ in parsed.errors] == [6, 7]
    assert "one time zone" in parsed.errors[0][1] and "not WIB, WITA or WIT" in parsed.errors[1][1]
