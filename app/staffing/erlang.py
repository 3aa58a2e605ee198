"""Erlang C and Erlang A (M/M/N and M/M/N+M queues), in plain Python.

Erlang C assumes customers never hang up; Erlang A gives them exponential patience, which is
closer to a real queue where abandons are common. Times are in seconds throughout.

Every function here is bounded for any input: no value overflows (Erlang B by its stable
recursion, Erlang A's distribution in log space), and every loop has a limit. Inputs beyond the
model's range (METRICS.md, "Range") raise `OutOfRange`, which callers show as "unavailable"
with its message; they never hang a tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

MAX_AGENTS = 50_000  # Erlang B/C: the recursion is O(N); beyond a floor of this size, no figure
MAX_QUEUE_STATES = 100_000  # Erlang A: states of the birth-death chain kept
MAX_SL_WORK = 3_000_000  # Erlang A: states × uniformization steps for the service level
_LOG_NEGLIGIBLE = math.log(1e-14)  # a weight this far below the largest does not count


class OutOfRange(ValueError):
    """The inputs are beyond the range where the figure is computed; the message says why."""


def _check(traffic: float, agents: int, **times: float) -> None:
    if not math.isfinite(traffic) or traffic < 0:
        raise OutOfRange(f"traffic must be a finite number of erlangs >= 0 (got {traffic})")
    if agents < 0:
        raise OutOfRange("agents must be >= 0")
    if agents > MAX_AGENTS or traffic > MAX_AGENTS:
        raise OutOfRange(
            f"{max(traffic, agents):.0f} erlangs or agents is beyond the computed range "
            f"({MAX_AGENTS})"
        )
    for name, value in times.items():
        if not math.isfinite(value) or value < 0:
            raise OutOfRange(f"{name} must be a finite number of seconds >= 0 (got {value})")


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability, by the stable recursion B(k) = A·B(k-1) / (k + A·B(k-1)): every
    term stays in [0, 1], so nothing overflows at any traffic."""
    _check(traffic, agents)
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def _c_from_b(traffic: float, agents: int, b: float) -> float:
    return agents * b / (agents - traffic * (1 - b))


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that an arriving contact has to wait."""
    if agents <= traffic:
        return 1.0
    return _c_from_b(traffic, agents, erlang_b(traffic, agents))


@dataclass(frozen=True)
class Level:
    agents: int
    p_wait: float
    service_level: float
    asa_s: float
    occupancy: float
    p_abandon: float = 0.0
    method: str = "exact"  # "fluid": Erlang A's fluid limit for a hugely overloaded queue


def _c_level(traffic: float, agents: int, b: float, aht_s: float, within_s: float) -> Level:
    if agents <= traffic:
        return Level(agents, 1.0, 0.0, math.inf, 1.0)
    pw = _c_from_b(traffic, agents, b)
    sl = 1 - pw * math.exp(-(agents - traffic) * within_s / aht_s)
    return Level(agents, pw, sl, pw * aht_s / (agents - traffic), traffic / agents)


@lru_cache(maxsize=4096)
def erlang_c_level(traffic: float, agents: int, *, aht_s: float, within_s: float) -> Level:
    _check(traffic, agents, aht_s=aht_s, within_s=within_s)
    if aht_s <= 0:
        raise OutOfRange("AHT must be > 0")
    b = erlang_b(traffic, agents) if agents > traffic else 1.0
    return _c_level(traffic, agents, b, aht_s, within_s)


@lru_cache(maxsize=4096)
def agents_required(traffic: float, *, aht_s: float, target: float, within_s: float) -> int:
    """The fewest agents whose Erlang C service level reaches the target. Erlang B is carried
    from one N to the next, so the search costs O(N) in all."""
    _check(traffic, 0, aht_s=aht_s, within_s=within_s)
    if aht_s <= 0:
        raise OutOfRange("AHT must be > 0")
    if not 0 <= target < 1:
        # SL = 1 - P(wait)·e^(...) < 1 for every N when anyone waits: 100 % is never reached
        raise OutOfRange(f"a service level target must be below 1 (got {target})")
    n = max(1, math.floor(traffic) + 1)
    b = erlang_b(traffic, n)
    while _c_level(traffic, n, b, aht_s, within_s).service_level < target:
        n += 1
        if n > MAX_AGENTS:
            raise OutOfRange(f"more than {MAX_AGENTS} agents would be required")
        b = traffic * b / (n + traffic * b)
    return n


def scheduled_required(required: int, shrinkage: float) -> int:
    """Agents to schedule so that `required` are on the phones after shrinkage."""
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    return math.ceil(required / (1 - shrinkage) - 1e-9)


@lru_cache(maxsize=4096)
def erlang_a_level(
    arrivals_per_s: float, agents: int, *, aht_s: float, patience_s: float, within_s: float
) -> Level:
    """Erlang A: the number in system is a birth-death chain (arrivals λ; departures
    min(n, N)·μ plus (n − N)⁺·θ abandons). An arrival that finds n ≥ N waits; it is served
    within T if the queue ahead of it clears before T and before its own patience runs out.

    The stationary weights are summed in log space (they reach e^700 and beyond at a few
    hundred erlangs); the chain is cut where its tail is below 1e-14 of the largest weight."""
    lam = arrivals_per_s
    _check(lam * aht_s if math.isfinite(aht_s) else math.inf, agents, aht_s=aht_s)
    _check(0.0, 0, patience_s=patience_s, within_s=within_s)
    if aht_s <= 0 or patience_s <= 0:
        raise OutOfRange("AHT and patience must be > 0")
    if agents == 0:
        raise OutOfRange("no agents: every caller waits until they hang up")
    if lam <= 0:
        return Level(agents, 0.0, 1.0, 0.0, 0.0, 0.0)
    mu, theta = 1 / aht_s, 1 / patience_s
    log_lam = math.log(lam)
    log_w = [0.0]
    top = 0.0
    n = 0
    while True:
        n += 1
        death = min(n, agents) * mu + max(n - agents, 0) * theta
        log_w.append(log_w[-1] + log_lam - math.log(death))
        top = max(top, log_w[-1])
        # past N the deaths grow with n, so once the weights fall they keep falling
        if n > agents and death > lam and log_w[-1] - top < _LOG_NEGLIGIBLE:
            break
        if n >= MAX_QUEUE_STATES + agents:
            return _overloaded(lam, agents, mu, theta, within_s)
    weights = [math.exp(w - top) for w in log_w]
    total = math.fsum(weights)
    pi = [w / total for w in weights]
    p_wait = math.fsum(pi[agents:])
    queue_mean = math.fsum((k - agents) * p for k, p in enumerate(pi) if k > agents)
    p_abandon = min(1.0, theta * queue_mean / lam)
    # served within T: for an arrival finding j waiting ahead, phases with rates
    # N·μ + i·θ (i = j..0) must all pass before T, while its own patience (rate θ) holds.
    ahead = pi[agents:]
    served_in_t = _served_within(ahead, agents * mu, theta, within_s)
    sl = min(1.0, (1 - p_wait) + served_in_t)
    # Erlang A's asa_s is the mean wait of all arrivals (Little: E[queue] / λ), abandons included
    asa = queue_mean / lam
    occupancy = min(1.0, lam * (1 - p_abandon) / (agents * mu))
    return Level(agents, p_wait, sl, asa, occupancy, p_abandon)


def _overloaded(lam: float, agents: int, mu: float, theta: float, within_s: float) -> Level:
    """Far more arrivals than the agents clear, with patient callers: the chain would hold more
    than MAX_QUEUE_STATES contacts. Its fluid limit (Whitt, "Fluid models for multiserver
    queues with abandonments", 2006) is exact to within 1/sqrt(queue): every agent busy,
    (λ − Nμ)/θ waiting, the excess λ − Nμ abandoning, and a served caller has waited
    ln(λ/Nμ)/θ: the served share Nμ/λ is within T when that wait is at most T, else none."""
    capacity = agents * mu
    if lam <= capacity:  # cannot happen past the cut (the chain would have fallen); be safe
        raise OutOfRange("the queue's distribution did not converge")
    waiting = (lam - capacity) / theta
    served_wait = math.log(lam / capacity) / theta
    sl = capacity / lam if served_wait <= within_s else 0.0
    return Level(agents, 1.0, sl, waiting / lam, 1.0, (lam - capacity) / lam, method="fluid")


def _served_within(start: list[float], n_mu: float, theta: float, t: float) -> float:
    """P(reach an agent by t) for a chain 'i ahead' -> 'i-1 ahead' -> ... -> served, with
    rate n_mu + i·theta to advance and theta to abandon, by uniformization: the Poisson
    weights of the steps are taken in log space (e^(-rate·t) underflows past rate·t ≈ 745)
    and the steps stop where the Poisson tail is negligible."""
    # start states whose whole tail is negligible add nothing
    k = len(start)
    dropped = 0.0
    while k and dropped + start[k - 1] < 1e-15:
        dropped += start[k - 1]
        k -= 1
    if not k or t <= 0:
        return 0.0
    # An arrival with i ahead needs i + 1 phases; at most `steps` pass in the uniformized
    # chain that matters by t (the Poisson bound below), so start states with i >= steps cannot
    # count. Fewer states lower the uniformization rate, so iterate to the fixed point.
    while True:
        big = n_mu + k * theta
        lt = big * t
        steps = math.ceil(lt + 12 * math.sqrt(lt) + 30)
        if k <= steps + 1:
            break
        k = steps + 1
    out_rate = [n_mu + i * theta + theta for i in range(k)]
    advance = [(n_mu + i * theta) / big for i in range(k)]
    stay = [1 - r / big for r in out_rate]
    p = list(start[:k])
    served = 0.0
    result = 0.0
    log_lt = math.log(lt)
    poisson_mass = 0.0
    for step in range(0, steps + 1):
        weight = math.exp(-lt + step * log_lt - math.lgamma(step + 1))
        poisson_mass += weight
        result += weight * served
        if math.fsum(p) < 1e-15:
            break  # every start has been served or has hung up: `served` is final
        if k * step > MAX_SL_WORK:
            raise OutOfRange(
                f"the service level needs over {MAX_SL_WORK:.0g} steps: too many agents or "
                "waiting contacts for a threshold this long"
            )
        served += p[0] * advance[0]
        new = [p[i] * stay[i] + p[i + 1] * advance[i + 1] for i in range(k - 1)]
        new.append(p[k - 1] * stay[k - 1])
        p = new
    # served(t) = Σ_m Poisson(m; big·t) · (served after m steps); past the last step `served`
    # no longer changes (or the weights are negligible), so the remaining mass takes it
    return result + max(1 - poisson_mass, 0.0) * served
