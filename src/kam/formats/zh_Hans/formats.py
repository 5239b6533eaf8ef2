"""Numbers on Chinese pages as Chinese business documents write them: 12,345.60 (Django's
zh_Hans formats group nothing). The other formats are Django's."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
