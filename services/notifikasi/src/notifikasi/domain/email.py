"""E-mail texts and the daily digest's schedule. Pure: no SMTP here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from notifikasi.domain.messages import format_date

IMMEDIATE = "immediate"
DIGEST = "digest"
OFF = "off"
MODES = (IMMEDIATE, DIGEST, OFF)

FOOTER = ("\n\n--\nPesan ini dikirim otomatis oleh Kinerja. Atur pengiriman e-mail di pengaturan notifikasi "
          "Anda.")


@dataclass(frozen=True)
class Item:
    title: str
    body: str
    created_at: datetime  # agency-local


def immediate(title: str, body: str) -> tuple[str, str]:
    """Subject and text of one notification sent at once."""
    return f"[Kinerja] {title}", body + FOOTER


def batched(items: list[Item]) -> tuple[str, str]:
    """Subject and text of what arrived for one person within the batch window (oldest first): one
    notification reads as it would alone."""
    if len(items) == 1:
        return immediate(items[0].title, items[0].body)
    lines = [f"{len(items)} notifikasi baru untuk Anda:", ""]
    for item in items:
        lines.append(f"- {item.created_at:%d/%m %H:%M} {item.title}: {item.body}")
    return f"[Kinerja] {len(items)} notifikasi baru: {items[-1].title}", "\n".join(lines) + FOOTER


def mail_failing(endpoint: str, error: str, waiting: int) -> tuple[str, str]:
    """What an agency's admins are told when e-mail stops going out."""
    return ("E-mail tidak dapat dikirim",
            f"Server e-mail {endpoint} tidak menerima pesan: {error}. {waiting} e-mail menunggu dan akan dicoba "
            "lagi. Periksa pengaturan SMTP (NOTIFIKASI_SMTP_HOST, NOTIFIKASI_SMTP_PORT, atau berkas "
            "NOTIFIKASI_SMTP_CONFIG_FILE); perubahan berlaku tanpa memulai ulang layanan.")


def mail_given_up(count: int, to: str, attempts: int, error: str) -> tuple[str, str]:
    return ("E-mail gagal terkirim",
            f"{count} e-mail untuk {to} tidak terkirim setelah {attempts} percobaan: {error}. "
            "Penerimanya tetap dapat membaca notifikasi di dasbor.")


def mail_recovered(endpoint: str, waiting: int) -> tuple[str, str]:
    return ("Pengiriman e-mail pulih",
            f"Server e-mail {endpoint} kembali menerima pesan; {waiting} e-mail yang menunggu sedang dikirim.")


def digest(day: date, items: list[Item]) -> tuple[str, str]:
    """Subject and text of the daily digest of ``items`` (oldest first)."""
    lines = [f"Ringkasan notifikasi Anda per {format_date(day)} ({len(items)} notifikasi):", ""]
    for item in items:
        lines.append(f"- {item.created_at:%d/%m %H:%M} {item.title}: {item.body}")
    return f"[Kinerja] Ringkasan harian {format_date(day)}", "\n".join(lines) + FOOTER


def digest_due(now_local: datetime, last_sent_local: datetime | None, hour: int) -> datetime | None:
    """The digest time that is due now (today's ``hour`` o'clock, once passed and not yet sent),
    else None. Naive or aware, ``now_local`` and ``last_sent_local`` are in the same zone."""
    at = datetime.combine(now_local.date(), time(hour), tzinfo=now_local.tzinfo)
    if now_local < at:
        at -= timedelta(days=1)
    if last_sent_local is not None and last_sent_local >= at:
        return None
    return at
