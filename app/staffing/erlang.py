"""Erlang C and Erlang A (M/M/N and M/M/N+M queues), in plain Python.

Erlang C assumes customers never hang up; Erlang A gives them exponential patience, which is
closer to a real queue where abandons are common. Times are in seconds throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability, by the stable recursion B(k) = A·B(k-1) / (k + A·B(k-1))."""
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that an arriving contact has to wait."""
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1 - b))


@dataclass(frozen=True)
class Level:
    agents: int
    p_wait: float
    service_level: float
    asa_s: float
    occupancy: float
    p_abandon: float = 0.0


def erlang_c_level(traffic: float, agents: int, *, aht_s: float, within_s: float) -> Level:
    if agents <= traffic:
        return Level(agents, 1.0, 0.0, math.inf, 1.0)
    pw = erlang_c(traffic, agents)
    sl = 1 - pw * math.exp(-(agents - traffic) * within_s / aht_s)
    return Level(agents, pw, sl, pw * aht_s / (agents - traffic), traffic / agents)


def agents_required(traffic: float, *, aht_s: float, target: float, within_s: float) -> int:
    """The fewest agents whose Erlang C service level reaches the target."""
    n = max(1, math.floor(traffic) + 1)
    while erlang_c_level(traffic, n, aht_s=aht_s, within_s=within_s).service_level < target:
        n += 1
    return n


def scheduled_required(required: int, shrinkage: float) -> int:
    """Agents to schedule so that `required` are on the phones after shrinkage."""
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    return math.ceil(required / (1 - shrinkage) - 1e-9)


def erlang_a_level(
    arrivals_per_s: float, agents: int, *, aht_s: float, patience_s: float, within_s: float
) -> Level:
    """Erlang A: the number in system is a birth-death chain (arrivals λ; departures
    min(n, N)·μ plus (n − N)⁺·θ abandons). An arrival that finds n ≥ N waits; it is served
    within T if the queue ahead of it clears before T and before its own patience runs out."""
    lam, mu, theta = arrivals_per_s, 1 / aht_s, 1 / patience_s
    # stationary distribution, truncated where the tail is negligible
    weights = [1.0]
    n = 0
    while True:
        n += 1
        death = min(n, agents) * mu + max(n - agents, 0) * theta
        weights.append(weights[-1] * lam / death)
        if n > agents and weights[-1] < 1e-12 * max(weights):
            break
    total = sum(weights)
    pi = [w / total for w in weights]
    p_wait = sum(pi[agents:])
    queue_mean = sum((k - agents) * p for k, p in enumerate(pi) if k > agents)
    p_abandon = theta * queue_mean / lam if lam > 0 else 0.0
    # served within T: for an arrival finding j waiting ahead, phases with rates
    # N·μ + i·θ (i = j..0) must all pass before T, while its own patience (rate θ) holds.
    ahead = [pi[agents + j] for j in range(len(pi) - agents)]
    served_in_t = _served_within(ahead, agents * mu, theta, within_s)
    sl = (1 - p_wait) + served_in_t
    # Erlang A's asa_s is the mean wait of all arrivals (Little: E[queue] / λ), abandons included
    asa = queue_mean / lam if lam > 0 else 0.0
    occupancy = lam * (1 - p_abandon) / (agents * mu)
    return Level(agents, p_wait, sl, asa, occupancy, p_abandon)


def _served_within(start: list[float], n_mu: float, theta: float, t: float) -> float:
    """P(reach an agent by t) for a chain 'i ahead' -> 'i-1 ahead' -> ... -> served, with
    rate n_mu + i·theta to advance and theta to abandon, by uniformization."""
    if not start or t <= 0:
        return 0.0
    k = len(start)
    out_rate = [n_mu + i * theta + theta for i in range(k)]
    big = max(out_rate)
    p = list(start)
    served = 0.0
    # served(t) = Σ_m Poisson(m; big·t) · (served after m uniformized steps)
    weight = math.exp(-big * t)
    cumulative = weight
    step = 0
    result = 0.0
    while cumulative < 1 - 1e-12 and step < 100_000:
        step += 1
        new = [0.0] * k
        for i in range(k):
            stay = 1 - out_rate[i] / big
            new[i] += p[i] * stay
            advance = (n_mu + i * theta) / big
            if i == 0:
                served += p[0] * advance
            else:
                new[i - 1] += p[i] * advance
        p = new
        weight *= big * t / step
        cumulative += weight
        result += weight * served
    return result
