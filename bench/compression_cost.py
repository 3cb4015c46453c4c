"""What compression costs and saves per record on the system's own payloads, measured in bytes and
in CPU instructions (valgrind's callgrind), not in seconds: both are the same on a busy machine
as on a quiet one, so this decides the producer's ``compression_type`` without a benchmark run.

Records are real event envelopes (``kehadiran.punch.recorded.v1`` and ``day.summarized.v1``, the
payloads of ``bench/kafka_ceiling.py``), keyed by NIP, put into record batches by kafka-python's
own ``DefaultRecordBatchBuilder`` (the producer's code path: append, compress, header, CRC-32C)
and read back by its ``DefaultRecordBatch`` (the consumer's: CRC check, decompress, records).
For each codec and batch fill (records per batch) it prints:

- bytes per record on the wire and on the broker's disk (topics keep everything: retention -1);
- instructions per record to build the batch, and to read it back, as callgrind counts them:
  each child runs the same loop twice (R and 2R batches) and the difference is divided by R's
  records, so start-up and imports cancel out;
- with ``--bootstrap`` (a broker): instructions per record of the whole client path,
  ``make_producer(...).send()`` to the acknowledgement (the sender thread included), the
  denominator for the codec's cost. A rough figure only (one run gave 187k, 216k and 193k for
  none, lz4 and zstd): under valgrind the client runs some 50 times slower, and its sender
  thread's wake-ups, counted too, follow the wall clock. The codecs' own cost is the build and
  read columns above.

    .venv/bin/python bench/compression_cost.py            # needs valgrind (apt-get install valgrind)
    .venv/bin/python bench/compression_cost.py --no-instructions   # bytes only
    .venv/bin/python bench/compression_cost.py --bootstrap 127.0.0.1:9092 --fills 100   # and the send path
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


CODECS = {"none": 0, "gzip": 1, "lz4": 3, "zstd": 4}
FILLS = (10, 50, 200)


def payloads() -> list[tuple[bytes, bytes]]:
    from kafka_ceiling import payloads as ceiling_payloads

    return ceiling_payloads(2000)


def build_batches(data: list, codec: str, fill: int, batches: int) -> list[bytearray]:
    from kafka.record.default_records import DefaultRecordBatchBuilder

    out = []
    i = 0
    for _ in range(batches):
        builder = DefaultRecordBatchBuilder(magic=2, compression_type=CODECS[codec], is_transactional=False,
                                            producer_id=1, producer_epoch=0, base_sequence=0,
                                            batch_size=10 * 1024 * 1024)
        for offset in range(fill):
            key, value = data[i % len(data)]
            i += 1
            builder.append(offset, timestamp=1_700_000_000_000 + offset, key=key, value=value, headers=[])
        out.append(builder.build())
    return out


def read_batches(raw: list) -> int:
    from kafka.record.default_records import DefaultRecordBatch

    n = 0
    for buf in raw:
        batch = DefaultRecordBatch(bytes(buf))
        assert batch.validate_crc()
        for record in batch:
            n += len(record.value)
    return n


def send_all(data: list, codec: str, records: int, bootstrap: str, topic: str) -> None:
    from kinerja.messaging.producer import make_producer

    producer = make_producer(bootstrap, client_id="compression-cost", compression_type=None if codec == "none" else codec)
    producer.send(topic, key=b"warm", value=b"{}").get(60)
    for i in range(records):
        key, value = data[i % len(data)]
        producer.send(topic, key=key, value=value)
    producer.flush(600)
    producer.close(10)


def child(args) -> None:
    """One measured loop (run under callgrind by the parent)."""
    data = [(bytes.fromhex(k), bytes.fromhex(v)) for k, v in json.loads(Path(args.data).read_text())]
    if args.phase == "send":
        send_all(data, args.codec, args.batches, args.bootstrap, args.topic)
    elif args.phase == "build":
        build_batches(data, args.codec, args.fill, args.batches)
    else:
        raw = [bytes.fromhex(b) for b in json.loads(Path(args.built).read_text())]
        read_batches(raw[: args.batches])


def instructions(cmd: list[str], out_dir: Path) -> int:
    out = out_dir / "callgrind.out"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    text = out.read_text(errors="replace")
    found = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    out.unlink()
    assert found, "no totals in the callgrind output"
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-instructions", action="store_true", help="bytes only (no valgrind)")
    ap.add_argument("--records", type=int, default=2000, help="records per measured loop (per codec and fill)")
    ap.add_argument("--codecs", default="none,lz4,zstd,gzip")
    ap.add_argument("--fills", default=",".join(map(str, FILLS)), help="records per batch, comma-separated")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--bootstrap", help="a broker: also count the whole send path per record")
    ap.add_argument("--topic", help=argparse.SUPPRESS)
    ap.add_argument("--phase", choices=("build", "read", "send"), help=argparse.SUPPRESS)
    ap.add_argument("--codec", help=argparse.SUPPRESS)
    ap.add_argument("--fill", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--batches", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--built", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return

    from kafka.codec import has_lz4, has_zstd

    codecs = [c for c in args.codecs.split(",") if c in CODECS]
    missing = [c for c, ok in (("lz4", has_lz4()), ("zstd", has_zstd())) if c in codecs and not ok]
    if missing:
        sys.exit(f"codec libraries missing: {missing} (pip install lz4 zstandard)")
    counting = not args.no_instructions
    if counting and not shutil.which("valgrind"):
        sys.exit("valgrind not found: apt-get install valgrind, or --no-instructions")
    data = payloads()
    raw_mean = sum(len(k) + len(v) for k, v in data) / len(data)
    print(f"{len(data)} payloads, key + value {raw_mean:.0f} bytes on average")
    rows = []
    with tempfile.TemporaryDirectory(prefix="kinerja-compression-") as tmp:
        tmp_dir = Path(tmp)
        data_file = tmp_dir / "data.json"
        data_file.write_text(json.dumps([(k.hex(), v.hex()) for k, v in data]))
        me = [sys.executable, str(Path(__file__).resolve()), "--child", "--data", str(data_file)]
        for fill in [int(f) for f in args.fills.split(",")]:
            batches = max(1, args.records // fill)
            for codec in codecs:
                built = build_batches(data, codec, fill, 2 * batches)
                wire = sum(len(b) for b in built[:batches]) / (batches * fill)
                row = {"codec": codec, "fill": fill, "bytes_per_record": round(wire, 1)}
                if counting:
                    built_file = tmp_dir / f"built-{codec}-{fill}.json"
                    built_file.write_text(json.dumps([bytes(b).hex() for b in built]))
                    common = ["--codec", codec, "--fill", str(fill), "--built", str(built_file)]
                    for phase in ("build", "read"):
                        once = instructions([*me, *common, "--phase", phase, "--batches", str(batches)], tmp_dir)
                        twice = instructions([*me, *common, "--phase", phase, "--batches", str(2 * batches)], tmp_dir)
                        row[f"{phase}_instructions_per_record"] = round((twice - once) / (batches * fill))
                rows.append(row)
                print(json.dumps(row), flush=True)
        if counting and args.bootstrap:
            from kafka import KafkaAdminClient
            from kafka.admin import NewTopic

            topic = "compression-cost-" + os.urandom(4).hex()
            admin = KafkaAdminClient(bootstrap_servers=args.bootstrap)
            admin.create_topics([NewTopic(topic, 6, 1)])
            admin.close()
            sends = {}
            for codec in codecs:
                common = [*me, "--phase", "send", "--codec", codec, "--bootstrap", args.bootstrap, "--topic", topic]
                once = instructions([*common, "--batches", str(args.records)], tmp_dir)
                twice = instructions([*common, "--batches", str(2 * args.records)], tmp_dir)
                sends[codec] = round((twice - once) / args.records)
                print(json.dumps({"codec": codec, "send_instructions_per_record": sends[codec]}), flush=True)
    print()
    if counting and args.bootstrap:
        print("whole send path (rough: includes the sender thread's wake-ups, which follow the wall clock)")
        print("| codec | whole send path, instructions per record | vs none |")
        print("|---|---:|---:|")
        for codec, n in sends.items():
            print(f"| {codec} | {n:,} | {n / sends['none']:.2f} |")
        print()
    head = "| records per batch | codec | bytes per record | vs none |"
    sep = "|---:|---|---:|---:|"
    if counting:
        head += " build instr./record | read instr./record |"
        sep += "---:|---:|"
    print(head)
    print(sep)
    for row in rows:
        base = next(r for r in rows if r["fill"] == row["fill"] and r["codec"] == "none")
        line = (f"| {row['fill']} | {row['codec']} | {row['bytes_per_record']:,.0f} | "
                f"{row['bytes_per_record'] / base['bytes_per_record']:.2f} |")
        if counting:
            line += (f" {row['build_instructions_per_record']:,} | {row['read_instructions_per_record']:,} |")
        print(line)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
