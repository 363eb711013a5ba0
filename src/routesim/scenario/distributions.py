"""Probability distributions by name with their natural parameters.

Each is a frozen scenario record that validates its parameters, draws with an explicit numpy Generator
(``sample``) and knows its analytic ``mean``. In a scenario::

    duration_days: {distribution: lognormal, median: 4, sigma: 0.9}
    capacity_factor: 0.3                      # a plain number is a fixed value
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from .records import Frozen, NonNegative, Positive, Signed


class Fixed(Frozen):
    """Always ``value``."""

    distribution: Literal["fixed"]
    value: Signed

    @property
    def support(self) -> tuple[float, float]:
        return self.value, self.value

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        return self.value if size is None else np.full(size, self.value)


class Uniform(Frozen):
    """Uniform on [low, high]."""

    distribution: Literal["uniform"]
    low: Signed
    high: Signed

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high: {self.high:g} is below low ({self.low:g})")
        return self

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        return rng.uniform(self.low, self.high, size)


class Triangular(Frozen):
    """Triangular on [low, high] with its peak at ``mode``."""

    distribution: Literal["triangular"]
    low: Signed
    mode: Signed
    high: Signed

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"mode: need low <= mode <= high, got {self.low:g}, {self.mode:g}, {self.high:g}")
        if self.low == self.high:
            raise ValueError("high: must be above low")
        return self

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        return rng.triangular(self.low, self.mode, self.high, size)


class Exponential(Frozen):
    """Exponential with the given ``mean``."""

    distribution: Literal["exponential"]
    mean_value: Positive = Field(alias="mean")

    @property
    def support(self) -> tuple[float, float]:
        return 0.0, math.inf

    @property
    def mean(self) -> float:
        return self.mean_value

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        return rng.exponential(self.mean_value, size)


class Lognormal(Frozen):
    """Lognormal given by ``median`` and ``sigma`` (of the log), or by its own ``mean`` and ``sd``."""

    distribution: Literal["lognormal"]
    median: Positive | None = None
    sigma: Annotated[float, Field(ge=0, le=10)] | None = None
    mean_value: Positive | None = Field(default=None, alias="mean")
    sd: NonNegative | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Lognormal:
        by_median = self.median is not None and self.sigma is not None
        by_mean = self.mean_value is not None and self.sd is not None
        given = [k for k, v in (("median", self.median), ("sigma", self.sigma), ("mean", self.mean_value),
                                ("sd", self.sd)) if v is not None]
        if by_median == by_mean or len(given) != 2:
            raise ValueError("median: give either median and sigma, or mean and sd")
        return self

    @property
    def mu_sigma(self) -> tuple[float, float]:
        """Mean and standard deviation of the logarithm."""
        if self.median is not None and self.sigma is not None:
            return math.log(self.median), self.sigma
        assert self.mean_value is not None and self.sd is not None
        s2 = math.log1p((self.sd / self.mean_value) ** 2)
        return math.log(self.mean_value) - s2 / 2, math.sqrt(s2)

    @property
    def support(self) -> tuple[float, float]:
        return 0.0, math.inf

    @property
    def mean(self) -> float:
        mu, sigma = self.mu_sigma
        return math.exp(mu + sigma**2 / 2)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        mu, sigma = self.mu_sigma
        return rng.lognormal(mu, sigma, size)


class Weibull(Frozen):
    """Weibull with ``shape`` k and ``scale`` lambda: mean = lambda x Gamma(1 + 1/k)."""

    distribution: Literal["weibull"]
    shape: Annotated[float, Field(ge=0.05, le=1e3)]
    scale: Positive

    @property
    def support(self) -> tuple[float, float]:
        return 0.0, math.inf

    @property
    def mean(self) -> float:
        return self.scale * math.gamma(1 + 1 / self.shape)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        return self.scale * rng.weibull(self.shape, size)


class Gamma(Frozen):
    """Gamma with ``shape`` k and ``scale`` theta: mean = k x theta."""

    distribution: Literal["gamma"]
    shape: Positive
    scale: Positive

    @property
    def support(self) -> tuple[float, float]:
        return 0.0, math.inf

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        return rng.gamma(self.shape, self.scale, size)


class Empirical(Frozen):
    """Each of ``values`` with equal probability."""

    distribution: Literal["empirical"]
    values: Annotated[tuple[Signed, ...], Field(min_length=1, strict=False)]

    @property
    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        # rng.choice(values, size), bit for bit and with the same draws (numpy's own path for a uniform
        # choice with replacement), without its argument checks, which took ~20 us a call
        values: np.ndarray = np.asarray(self.values)
        return values[rng.integers(0, len(values), size=size, dtype=np.int64)]


Fitted = Annotated[
    Fixed | Uniform | Triangular | Exponential | Lognormal | Weibull | Gamma | Empirical,
    Field(discriminator="distribution"),
]
"""A distribution with its parameters known."""


class Fits(Frozen):
    """Parameters that are themselves uncertain: one of ``fits`` (a bootstrap sample of a fit, say), each as
    likely. A random process holds one of them for a whole replication (:meth:`pick`), so that the spread
    of the fits shows between replications; a draw of its own (:meth:`sample`) is a draw of the mixture."""

    distribution: Literal["fits"]
    fits: Annotated[tuple[Fitted, ...], Field(min_length=1, strict=False)]

    @property
    def support(self) -> tuple[float, float]:
        supports = [f.support for f in self.fits]
        return min(low for low, _ in supports), max(high for _, high in supports)

    @property
    def mean(self) -> float:
        return float(np.mean([f.mean for f in self.fits]))

    def pick(self, rng: np.random.Generator) -> Fitted:
        """One of the fits, each as likely."""
        return self.fits[int(rng.integers(0, len(self.fits)))]

    def sample(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray | float:
        if size is None:
            return self.pick(rng).sample(rng)
        return np.array([self.pick(rng).sample(rng) for _ in range(size)], dtype=float)


Distribution = Annotated[
    Fixed | Uniform | Triangular | Exponential | Lognormal | Weibull | Gamma | Empirical | Fits,
    Field(discriminator="distribution"),
]
DISTRIBUTIONS = ("fixed", "uniform", "triangular", "exponential", "lognormal", "weibull", "gamma", "empirical",
                 "fits")

_SCALES = {"fixed": ("value",), "uniform": ("low", "high"), "triangular": ("low", "mode", "high"),
           "exponential": ("mean_value",), "lognormal": ("median", "mean_value", "sd"), "weibull": ("scale",),
           "gamma": ("scale",), "empirical": ("values",)}
"""The parameters of each distribution that carry its unit: times a factor, they scale every draw."""


def scaled(dist: Distribution, factor: float) -> Distribution:
    """``dist`` with every draw ``factor`` times as large (a fit's shape, or a lognormal's sigma, kept)."""
    if isinstance(dist, Fits):
        return dist.model_copy(update={"fits": tuple(scaled(f, factor) for f in dist.fits)})
    update: dict[str, object] = {}
    for name in _SCALES[dist.distribution]:
        value = getattr(dist, name)
        if value is not None:
            update[name] = tuple(v * factor for v in value) if isinstance(value, tuple) else value * factor
    return dist.model_copy(update=update)


def as_distribution(value: object) -> object:
    """Let a plain number stand for a fixed value (``capacity_factor: 0.3``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"distribution": "fixed", "value": value}
    return value


Quantity = Annotated[Distribution, BeforeValidator(as_distribution, json_schema_input_type=float | Distribution)]
"""A scenario value that is a number or a distribution."""


def check_support(dist: Distribution, key: str, low: float, high: float = math.inf) -> None:
    """Raise a ``key: ...`` ValueError unless every value ``dist`` can draw lies in [low, high]."""
    lo, hi = dist.support
    if lo < low or hi > high:
        bounds = f"outside [{low:g}, {high:g}]" if high < math.inf else f"below {low:g}"
        raise ValueError(f"{key}: a {dist.distribution} distribution here can draw values {bounds}")
