"""Cache warming: load 50 configuration entries with ONE BatchGetItem on a cold start.

A service that reads its settings one GetItem at a time pays 50 round trips before it can
answer its first request. ``Repository.batch_get`` asks for all of them in one request
(up to 100 keys fit in one BatchGetItem) and hands them back in the order asked, with
None for any setting that is not stored, so defaults can fill the gaps.

Run it with ``python -m examples.cache_warming``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from tctf_dynamo import DynamoDBService, Entity, Repository, Table

table = Table("configuration")

SETTING_NAMES = [f"feature.{number:02d}" for number in range(50)]


class Setting(Entity, table=table, pk="CONFIG#{name}", sk="VALUE"):
    """One configuration entry."""

    name: str
    value: str


class SettingsCache:
    """Settings held in memory, loaded once in one round trip."""

    def __init__(self, repository: Repository[Setting], names: Sequence[str]) -> None:
        self._repository = repository
        self._names = list(names)
        self._values: dict[str, str] | None = None

    def warm(self, defaults: dict[str, str] | None = None) -> int:
        """Load every setting with one batch get; returns how many were stored."""
        found = self._repository.batch_get([{"name": name} for name in self._names])
        defaults = defaults or {}
        self._values = {
            name: setting.value if setting else defaults.get(name, "")
            for name, setting in zip(self._names, found, strict=True)
        }
        return sum(setting is not None for setting in found)

    def get(self, name: str) -> str:
        """A setting's value, from memory."""
        if self._values is None:
            self.warm()
        return (self._values or {})[name]


def seed(repository: Repository[Setting]) -> None:
    """Store the settings the demo reads (in one bulk write)."""
    repository.batch_put(
        [
            Setting(name=name, value="on" if index % 2 else "off")
            for index, name in enumerate(SETTING_NAMES)
        ]
    )


def main(service: DynamoDBService | None = None) -> SettingsCache:
    """Seed 50 settings, then warm a cache of them; returns the warm cache."""
    service = service or DynamoDBService.embedded()
    service.create_table(table)
    settings = Repository(Setting, service)
    seed(settings)
    cache = SettingsCache(settings, SETTING_NAMES)
    started = time.perf_counter()
    loaded = cache.warm()
    elapsed = (time.perf_counter() - started) * 1000
    print(f"warmed {loaded} settings with one BatchGetItem in {elapsed:.1f} ms")
    print(f"feature.00 = {cache.get('feature.00')}, feature.01 = {cache.get('feature.01')}")
    return cache


if __name__ == "__main__":
    main()
