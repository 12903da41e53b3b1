"""The decision core shared by the sync and the async API.

Every operation that needs I/O is written once, as a *program* (see
:mod:`tctf_dynamo.effects.program`):
a generator that yields effects (send this request, sleep this long, ask the breaker)
and receives their results. The sync shell performs effects by blocking calls, the
async shell by awaiting; neither holds a rule of its own.
"""
