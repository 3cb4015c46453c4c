"""The ZKTeco ADMS push protocol (``/iclock/...``), so unmodified terminals push to kehadiran.

A plain Flask blueprint (text/plain, no OpenAPI): the device is the client and polls. Public (no
JWT, as ``kinerja.auth.PUBLIC_BLUEPRINTS`` says); a device is known by its registered serial
number, and an unknown one gets ``403`` with the reason while nothing is stored. Every reply
carries a GMT ``Date`` header: the device sets its clock from it.

``OK:<n>`` counts the records accepted: new punches, punches already stored (the device must not
send them again) and punches from a PIN the roster does not know yet (kept in quarantine). Malformed
lines are not counted; they are logged and kept on the device's status for the operator. A batch
of nothing but malformed lines still gets ``200 OK:0``: a 4xx would make the device re-send the
same lines every ``ErrorDelay`` seconds, forever. A non-200 reply (unknown device, oversized body,
a database failure) makes the device re-send the whole batch, which the ingest absorbs (it
deduplicates on device, PIN and device time).

Newer firmware (push protocol 3.x) also asks for the time (``/iclock/rtdata?type=time``), answers
``DATA QUERY`` commands on ``/iclock/querydata``, and pushes photos (``table=ATTPHOTO``) and
biometric templates (``table=BIODATA``, OPERLOG's ``FP``/``FACE``): all acknowledged, the photos
and templates kept only where the deployment says so (off by default), each bounded in size.

In parts: ``blueprint`` (the blueprint, its plain-text replies and errors), ``callers`` (which
registered device a request may speak for, and the audited refusals), ``contact`` (handshake,
time, ping), ``uploads`` (punches, operation log, options, photos, templates), ``commands`` (the
command queue and its answers).
"""
from kehadiran.entrypoints.iclock import callers, commands, contact, uploads  # noqa: F401  (their routes on bp)
from kehadiran.entrypoints.iclock.blueprint import bp

__all__ = ["bp"]
