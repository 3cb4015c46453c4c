"""What encoding one event envelope costs with the standard library's json, orjson and msgspec,
in instructions, which a busy machine does not change: run each encoder under callgrind for 0 and
for N envelopes, and divide the difference by N. (kehadiran encodes its events with orjson:
``kehadiran.adapters.outbox_events``.)

    .venv/bin/python bench/encode_cost.py            # needs valgrind (apt-get install valgrind)
    .venv/bin/python bench/encode_cost.py --inner json 20000   # one measured process (what it runs)
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

ENVELOPE = {
    "specversion": "1.0", "id": "3f1c2a9e-5b7d-5c1e-9a3b-1d2e3f4a5b6c", "type": "kehadiran.punch.recorded.v1",
    "source": "kinerja/kehadiran", "time": "2026-12-05T00:45:00.123456+00:00", "subject": "198503122010011001",
    "agency": "disdik-lamsel",
    "data": {"punch_id": "1f1c2a9e-5b7d-5c1e-9a3b-1d2e3f4a5b6c", "nip": "198503122010011001", "device_sn": "LMS0001",
             "pin": "1234", "time": "2026-12-05T00:45:00+00:00", "status": None, "channel": "adms"},
}
ENCODERS = ("none", "json", "orjson", "msgspec")


def inner(which: str, n: int) -> None:
    import msgspec
    import orjson

    encoder = msgspec.json.Encoder()
    encode = {"json": lambda e: json.dumps(e, separators=(",", ":")), "orjson": lambda e: orjson.dumps(e).decode(),
              "msgspec": lambda e: encoder.encode(e).decode(), "none": lambda e: e}[which]
    for _ in range(n):
        encode(ENVELOPE)


def instructions(which: str, n: int) -> int:
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
                          "--inner", which, str(n)], capture_output=True, text=True, check=True).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inner", nargs=2, metavar=("ENCODER", "N"))
    parser.add_argument("-n", type=int, default=20000)
    args = parser.parse_args()
    if args.inner:
        inner(args.inner[0], int(args.inner[1]))
        return
    loop = None
    for which in ENCODERS:
        per = (instructions(which, args.n) - instructions(which, 0)) / args.n
        loop = per if which == "none" else loop
        print(f"{which:8s} {per:9,.0f} instructions an envelope" + ("" if which == "none" else
                                                                     f"  ({per - loop:,.0f} without the loop)"))


if __name__ == "__main__":
    main()
