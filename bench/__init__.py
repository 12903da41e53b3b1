"""Benchmarks of tctf_dynamo against boto3, PynamoDB and hand-written floors.

Run ``python -m bench.run [--quick] [--only NAME]``; see ``bench/README.md``.
"""
