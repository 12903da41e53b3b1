"""tctf_dynamo: single-table DynamoDB for Python."""

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode

__all__ = [
    "DynamoDBServiceError",
    "ErrorCode",
]
