"""The decision core shared by the sync and the async API.

Every operation that needs I/O is written once, as a *program* (see
:mod:`tctf_dynamo.effects.program`): a generator that yields effects (send this request,
sleep this long, ask the breaker) and receives their results. The sync shell performs
effects by blocking calls, the async shell by awaiting; neither holds a rule of its own.

Here: request builders (``requests``), write plans and the update rules they apply
(``writes``, ``update_rules``), transaction limits (``transactions``), the identity of an
item (``item_identity``), the outcome rules of a failed write (``outcomes``) and the
program every write is sent by (``sending``), and the programs of the service, plain
items, queries and repositories (``service_core``, ``items``, ``query_core``,
``repository_core``). Nothing here does I/O.
"""
