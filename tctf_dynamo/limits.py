"""DynamoDB's service limits, each named once; every check in the library reads them here.

Values come from the AWS DynamoDB developer guide ("Service, account, and table quotas").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

# Items and keys
MAX_ITEM_SIZE_BYTES: Final = 409_600
"""An item's attribute names plus values, UTF-8, must fit in 400 KB."""
MAX_PARTITION_KEY_BYTES: Final = 2_048
MAX_SORT_KEY_BYTES: Final = 1_024

# Names
MIN_TABLE_NAME_LENGTH: Final = 3
MAX_TABLE_NAME_LENGTH: Final = 255
TABLE_NAME_PATTERN: Final = r"[a-zA-Z0-9_.\-]+"
MAX_ATTRIBUTE_NAME_BYTES: Final = 65_535
MAX_KEY_ATTRIBUTE_NAME_BYTES: Final = 255
"""Key attributes and names projected into secondary indexes."""

# Transactions
MAX_TRANSACTION_ACTIONS: Final = 100
MAX_TRANSACTION_BYTES: Final = 4 * 1024 * 1024
CLIENT_REQUEST_TOKEN_TTL_SECONDS: Final = 600
MAX_CLIENT_REQUEST_TOKEN_LENGTH: Final = 36

# Batches
MAX_BATCH_WRITE_ITEMS: Final = 25
MAX_BATCH_WRITE_BYTES: Final = 16 * 1024 * 1024
MAX_BATCH_GET_KEYS: Final = 100
MAX_BATCH_GET_RESPONSE_BYTES: Final = 16 * 1024 * 1024

# Reads
MAX_QUERY_PAGE_BYTES: Final = 1024 * 1024
"""Query and Scan read at most 1 MB per page, before any filter is applied."""
MAX_PARALLEL_SCAN_SEGMENTS: Final = 1_000_000

# Numbers
MAX_NUMBER_PRECISION: Final = 38
MAX_NUMBER_MAGNITUDE: Final = Decimal("9.9999999999999999999999999999999999999E+125")
MIN_NUMBER_MAGNITUDE: Final = Decimal("1E-130")

# Expressions and documents
MAX_EXPRESSION_BYTES: Final = 4_096
MAX_DOCUMENT_DEPTH: Final = 32
MAX_IN_OPERANDS: Final = 100
"""The IN comparator takes at most 100 values."""

# Secondary indexes
MAX_GLOBAL_SECONDARY_INDEXES: Final = 20
MAX_LOCAL_SECONDARY_INDEXES: Final = 5

# Library conventions
RESERVED_KEY_PREFIX: Final = "__tctf_"
"""Key prefix of the library's own items (circuit-breaker state); entities cannot use it."""
