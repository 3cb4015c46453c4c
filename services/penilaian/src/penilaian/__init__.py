"""penilaian: the appraisal service (live scores, ledger, predikat)."""
