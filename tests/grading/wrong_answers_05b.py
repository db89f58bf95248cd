"""Wrong answers for exercise 05b (asyncio basics): one spoil per check (see test_exercise_checks)."""

from __future__ import annotations

_ONE_SHORT = """
async def {name}(search, n, *rest):
    return [await search_once(search, i) for i in range(n - 1)]
"""

# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    (
        "05b_asyncio",
        "05b.sequential",
        "searches made by one_after_another(search, n_calls)",
        _ONE_SHORT.format(name="one_after_another"),
    ),
    (
        "05b_asyncio",
        "05b.sequential",
        "most searches in flight at once, one after another",
        "one_after_another = all_at_once",
    ),
    (
        "05b_asyncio",
        "05b.sequential",
        "the total seconds you measured (sequential_s)",
        "sequential_s = n_calls * 1.0",
    ),
    (
        "05b_asyncio",
        "05b.gather",
        "searches made by all_at_once(search, n_calls)",
        _ONE_SHORT.format(name="all_at_once"),
    ),
    (
        "05b_asyncio",
        "05b.gather",
        "most searches in flight at once, with gather",
        "all_at_once = one_after_another",
    ),
    (
        "05b_asyncio",
        "05b.gather",
        "the total seconds you measured (gather_s)",
        "gather_s = sequential_s / n_calls",
    ),
    (
        "05b_asyncio",
        "05b.limit",
        "searches made by at_most(search, n_calls, limit)",
        _ONE_SHORT.format(name="at_most"),
    ),
    (
        "05b_asyncio",
        "05b.limit",
        "most searches in flight at once, under the semaphore",
        "at_most = lambda search, n, limit: all_at_once(search, n)",
    ),
    (
        "05b_asyncio",
        "05b.limit",
        "the total seconds you measured (limited_s)",
        "limited_s = sequential_s / limit",
    ),
]
