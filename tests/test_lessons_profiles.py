"""perflab.lessons.profiles: dev and prod in the same situations (lesson 14, pitfall 4)."""

from __future__ import annotations

import math

from perflab.lessons.profiles import Situation, compare_profiles, run_profile
from perflab.sim import Workload


def test_prod_does_not_start_where_the_database_accepts_fewer_than_its_warm_connections() -> None:
    laptop = Situation("laptop", Workload(requests=20, workers=1), db_connections=3)
    dev, prod = compare_profiles(["dev", "prod"], [laptop], seed=0)
    assert dev.started and dev.error == "" and dev.articles_per_hour > 0
    assert not prod.started and "too many clients" in prod.error
    assert prod.articles_per_hour == 0.0 and math.isnan(prod.p95_s)


def test_prod_starts_once_the_database_accepts_its_five_warm_connections() -> None:
    assert run_profile("prod", Situation("laptop", Workload(requests=20, workers=1), 5)).started


def test_dev_delivers_less_than_prod_under_a_closed_loop_of_20_clients() -> None:
    production = Situation("production", Workload(requests=200))
    dev, prod = compare_profiles(["dev", "prod"], [production], seed=0)
    assert dev.situation == prod.situation == "production"
    assert dev.articles_per_hour < prod.articles_per_hour
    assert dev.duration_s > prod.duration_s > 0
