"""The blocking shell: DynamoDBService, Repository, Query, plain items, scans, dry runs.

Each class here runs the programs of :mod:`tctf_dynamo.core` with the blocking
driver and adds no rule of its own; :mod:`tctf_dynamo.aio` is the awaited twin.
The public names are exported from :mod:`tctf_dynamo`.
"""
