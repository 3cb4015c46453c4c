"""Issue 19 item 10: what the APIs say is in Bahasa Indonesia unless the client asks for English,
and every message the services raise has its Indonesian in the catalogue."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kinerja.i18n import EN, ID, indonesian, preferred, translate

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("header, lang", [
    (None, ID), ("", ID), ("id", ID), ("id-ID,id;q=0.9", ID), ("en", EN), ("en-US,en;q=0.9", EN),
    ("id,en;q=0.8", ID), ("en;q=0.5,id", ID), ("en;q=0.9,fr", EN), ("fr,de;q=0.8", ID), ("en;q=abc", ID),
])
def test_the_language_is_indonesian_unless_english_is_preferred(header, lang):
    assert preferred(header) == lang


def test_messages_are_translated_with_their_values():
    assert translate("no ASN 199001012015031001 in your agency", ID) == \
        "tidak ada ASN 199001012015031001 di instansi Anda"
    assert translate("no ASN 199001012015031001 in your agency", EN) == "no ASN 199001012015031001 in your agency"
    assert translate("you may not change the attendance of 199001012015031001", ID) == \
        "Anda tidak boleh mengubah kehadiran 199001012015031001"
    assert translate("Must be greater than or equal to 1 and less than or equal to 500.", ID) == "harus antara 1 dan 500"
    assert translate("2026-12-01 is more than 31 days ago: corrections are asked within 31 days", ID) == \
        "2026-12-01 lebih dari 31 hari yang lalu: koreksi diajukan paling lambat 31 hari"
    refused = ("a phone punch is recorded at the moment it arrives (2026-11-27T09:00:00+07:00); "
               "2026-11-27T06:00:00+07:00 is 3 hours before that, more than the 5 minutes allowed. "
               "A punch forgotten on a past day is asked for as a correction (lupa absen): POST /api/v1/corrections")
    assert "berselisih 3 jam sebelum itu, lebih dari 5 menit yang diizinkan" in translate(refused, ID)
    assert translate("something nobody wrote", ID) == "something nobody wrote"


# -- every message that can reach a client has its Indonesian ------------------------------------------
# exceptions that leave as an HTTP answer with their text (directly, or mapped by the services'
# error handlers), and validators whose ``error`` is the reason a value is refused
RAISED = {"Forbidden", "NotFound", "BadRequest", "Conflict", "UnprocessableEntity", "Unauthorized",
          "RequestEntityTooLarge", "ValidationError", "TokenError", "InvalidInput", "NotAllowed", "IllegalTransition",
          "ConcurrentUpdate", "SkpExists", "UnknownRhk", "FileTooLarge", "NotPending", "BadPolicy", "BadPeriod",
          "UnknownAsn", "DestinationNotAllowed", "DestinationRefused", "unprocessable", "ReservedSerial", "NoAddress",
          "Unknown", "Conflicting", "Refused"}
VALIDATORS = {"Regexp", "Range", "Length", "OneOf"}
# modules whose ValueErrors (and appended reasons) a route answers with (422 with the text)
REASON_MODULES = ("kehadiran/service_layer/working_time.py", "kehadiran/service_layer/device_command_queue.py",
                  "kehadiran/service_layer/registry.py", "kehadiran/entrypoints/device_ops_api.py",
                  "kehadiran/domain/corrections.py", "kehadiran/domain/leave_requests.py",
                  "kehadiran/domain/phone_time.py", "kehadiran/service_layer/schedules.py",
                  "kehadiran/entrypoints/punches_api.py", "kehadiran/domain/device_commands.py",
                  "penilaian/domain/distribution.py", "kinerja/web.py", "kinerja/fields.py")


def _template(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        if left is not None or right is not None:
            return (left if left is not None else "{}") + (right if right is not None else "{}")
    return None


def _name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def messages() -> list[tuple[str, int, str]]:
    found = []
    sources = [*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("shared/src/kinerja/*.py")]
    for path in sources:
        rel = str(path.relative_to(ROOT))
        reasons_here = any(rel.endswith(m) for m in REASON_MODULES)
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node)
            texts = []
            if name in RAISED or (reasons_here and name in ("ValueError", "append", "refusal")):
                texts += [_template(a) for a in node.args[:1]]
            if name in VALIDATORS:
                texts += [_template(k.value) for k in node.keywords if k.arg == "error"]
            for text in texts:
                if text and re.search(r"[a-z]{3}", text) and not text.startswith("^"):
                    found.append((rel, node.lineno, text))
        if reasons_here:  # reasons written as {"field": ["..."]} literals
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Dict):
                    for value in node.values:
                        if isinstance(value, ast.List):
                            for item in value.elts:
                                text = _template(item)
                                if text and " " in text:
                                    found.append((rel, node.lineno, text))
    return found


def test_the_scan_finds_the_messages():
    found = {text for _, _, text in messages()}
    assert len(found) > 150
    assert "a phone may punch only for its own NIP" in found and "nobody decides on their own correction" in found


def rendered(template: str) -> list[str]:
    """What a template says once filled in: most take any value (a number will do); a few are
    filled with the shared window or an optional tail, which is what clients see."""
    from kinerja.fields import WINDOW

    special = {"{} must be {}": [f"date must be {WINDOW}", f"time must be {WINDOW}"],
               "period must be YYYY-MM {}": [f"period must be YYYY-MM {WINDOW}"],
               "control characters are not allowed{}": ["control characters are not allowed",
                                                        "control characters are not allowed (line breaks and tabs are)"]}
    return special.get(template) or [template.replace("{}", "7"), template.replace("{}", "x")]


def test_every_message_the_services_give_has_its_indonesian():
    missing = []
    for where, line, template in messages():
        if "/entrypoints/iclock/" in where:  # the device protocol answers terminals, in their English
            continue
        samples = rendered(template)
        untranslated = [s for s in samples if indonesian(s) is None]
        if len(untranslated) == len(samples) or (template in {"{} must be {}", "control characters are not allowed{}"}
                                                 and untranslated):
            missing.append(f"{where}:{line}: {template}")
        elif any(_english_left(template, indonesian(s)) for s in samples if indonesian(s) is not None):
            # matched by a general entry ("invalid token: {}") that carried its English tail along
            missing.append(f"{where}:{line}: {template} (partly English)")
    assert missing == []


def _english_left(template: str, translated: str) -> bool:
    """A phrase of the English (four words or more, between values and punctuation) still in the
    translation."""
    for phrase in re.split(r"\{\}|[:;,()]", template):
        if len(re.findall(r"\b[A-Za-z]+\b", phrase)) >= 4 and phrase.strip() in translated:
            return True
    return False
