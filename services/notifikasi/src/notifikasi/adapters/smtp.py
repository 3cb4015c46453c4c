"""Sending one e-mail through the configured SMTP server (stdlib smtplib)."""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "Kinerja <noreply@kinerja.local>"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 15.0


def send(config: SmtpConfig, *, to: str, subject: str, body: str) -> None:
    """Raises ``smtplib.SMTPException`` or ``OSError`` when the server does not take it."""
    msg = MimeMessage()
    msg["From"], msg["To"], msg["Subject"] = config.sender, to, subject
    msg["Date"], msg["Message-ID"] = formatdate(localtime=False), make_msgid(domain="kinerja.local")
    msg.set_content(body)  # UTF-8; Bahasa Indonesia and the arrows survive
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.username:
            smtp.login(config.username, config.password or "")
        smtp.send_message(msg)
