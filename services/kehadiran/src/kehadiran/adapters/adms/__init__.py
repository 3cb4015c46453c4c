"""ZKTeco ADMS ("iclock") push protocol codec: parse what a device sends, format what it expects.

Pure functions over bytes and text; no Flask, no database, nothing of ours but the domain's PIN
and time formats. See ``shared/reference/adms-push.md``. Every parser returns the good records
*and* a list of ``BadLine`` (line number, text, reason) for the lines it could not use: one
malformed line never spoils a batch, and nothing here raises for a device's input.

Choices worth knowing:

- STATUS → direction: only ``1`` (check-out) becomes ``"out"``. ``0`` (check-in) is the state most
  terminals attach to *every* punch unless staff press a key first, so it says nothing: reading it
  as ``"in"`` would turn a lone afternoon departure into a very late arrival (TL4 + PSW4 instead of
  TL4). Break-out/in (2, 3), overtime-in/out (4, 5), ``255`` and anything else are ``None`` too, so
  the daily rules decide by first/last punch and the schedule's midpoint. The raw code is kept on
  the record (``status_code``) should a per-device policy want it later.
- Text is decoded line by line: in the charset the request declared when it names a known one,
  else UTF-8 when the line is valid UTF-8, else GB18030 (a superset of GB2312, what Chinese-locale
  firmware writes); undecodable bytes become U+FFFD rather than an error.
- Record times are the device's wall clock, returned naive; the caller attaches the device's zone.

The codec in parts, one a concern: ``lines`` (text, times, PINs, numbers, what a parser returns),
``attlog`` (punches), ``operlog`` (operation log, users), ``options`` (the handshake), ``commands``
(the command queue on the wire), ``uploads`` (templates, photos), ``clock`` (the time a device asks
for). Callers use the names below, ``adms.parse_attlog`` and so on.
"""
from kehadiran.adapters.adms.attlog import AttRecord, drop_ahead, parse_attlog, single_line_pin, status_direction
from kehadiran.adapters.adms.clock import encode_time, rtdata_time_reply, server_tz
from kehadiran.adapters.adms.commands import (TABLE_RE, CommandResult, QueryRecord, command_lines, parse_devicecmd,
                                              parse_querydata)
from kehadiran.adapters.adms.lines import (MAX_PIN_LENGTH, PIN_RE, TIME_FORMAT, BadLine, Parsed, format_ok, int_field,
                                           iter_lines, known_charset, parse_kv_fields, parse_time, valid_pin)
from kehadiran.adapters.adms.operlog import OperRecord, UserRecord, parse_operlog, user_of
from kehadiran.adapters.adms.options import (DeviceInfo, OptionsPolicy, options_reply, parse_info, parse_option_lines,
                                             parse_options, stamp_of, timezone_option)
from kehadiran.adapters.adms.uploads import Photo, parse_attphoto, parse_biodata, template_bytes

__all__ = ["AttRecord", "drop_ahead", "parse_attlog", "single_line_pin", "status_direction", "encode_time", "rtdata_time_reply", "server_tz",
           "TABLE_RE", "CommandResult", "QueryRecord", "command_lines", "parse_devicecmd", "parse_querydata",
           "MAX_PIN_LENGTH", "PIN_RE", "TIME_FORMAT", "BadLine", "Parsed", "format_ok", "int_field", "iter_lines",
           "known_charset", "parse_kv_fields", "parse_time", "valid_pin", "OperRecord", "UserRecord",
           "parse_operlog", "user_of", "DeviceInfo", "OptionsPolicy", "options_reply", "parse_info",
           "parse_option_lines", "parse_options", "stamp_of", "timezone_option", "Photo", "parse_attphoto",
           "parse_biodata", "template_bytes"]
