"""Programs and their effects: how every layer above describes I/O without doing it.

A program is a generator that yields effects (send, sleep, run several programs at
once) and receives their results; :mod:`.program` defines the effects and the two
drivers, blocking and awaited, and :mod:`.concurrency` the bounded-concurrency
effect. Resilience, the decision core, batches and units of work are written as
programs, so the sync and the async shells share every decision.
"""
