"""Czech: ``4. 12. 2026`` and ``4. 12. 2026 5:02`` (24-hour clock, the hour without a leading zero)."""

DATE_FORMAT = "j. n. Y"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "G:i"
DATETIME_FORMAT = f"{DATE_FORMAT} {TIME_FORMAT}"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
