"""`nnx.metrics`: running averages kept in Variables, so that
`metrics.update(...)` inside an `nnx.jit` step persists like any other state.

    metrics = nnx.MultiMetric(accuracy=nnx.metrics.Accuracy(),
                              loss=nnx.metrics.Average('loss'))
    metrics.update(loss=loss, logits=logits, labels=labels)
    metrics.compute()     # {'accuracy': ..., 'loss': ...}
    metrics.reset()
"""
from .. import numpy as jnp
from .graph import Object, Variable

__all__ = ['MetricState', 'Metric', 'Average', 'Accuracy', 'MultiMetric']


class MetricState(Variable):
    """A metric's running total or count."""


class Metric(Object):
    """`update(**values)` accumulates, `compute()` reports, `reset()` starts over.
    A subclass defines all three (see `Average` and `Accuracy`)."""

    def _subclass_defines(self, method):
        raise TypeError(f"{type(self).__name__} is a Metric but does not define {method}(): "
                        "a metric subclass must define reset(), update(**values) and compute().")

    def reset(self):
        self._subclass_defines('reset')

    def update(self, **kwargs):
        self._subclass_defines('update')

    def compute(self):
        self._subclass_defines('compute')


class Average(Metric):
    """The mean of every value passed as `update(<argname>=values)`."""

    def __init__(self, argname='values'):
        self.argname = argname
        self.total = MetricState(jnp.zeros((), jnp.float32))
        self.count = MetricState(jnp.zeros((), jnp.int32))

    def reset(self):
        self.total.value = jnp.zeros((), jnp.float32)
        self.count.value = jnp.zeros((), jnp.int32)

    def update(self, **kwargs):
        if self.argname not in kwargs:
            raise TypeError(f"Average({self.argname!r}).update needs the keyword argument {self.argname!r}")
        values = jnp.asarray(kwargs[self.argname])
        self.total.value = self.total.value + values.sum()
        self.count.value = self.count.value + values.size

    def compute(self):
        return self.total.value / self.count.value


class Accuracy(Average):
    """The fraction of examples whose largest logit is at the label."""

    def update(self, *, logits, labels, **kwargs):
        if logits.ndim != labels.ndim + 1:
            raise ValueError(f"Accuracy: logits of shape {logits.shape} need labels of one dimension "
                             f"fewer, got {labels.shape}")
        super().update(**{self.argname: logits.argmax(axis=-1) == labels})


class MultiMetric(Metric):
    """Several named metrics updated together: each takes the keywords it needs."""

    def __init__(self, **metrics):
        self._names = tuple(metrics)
        for name, metric in metrics.items():
            setattr(self, name, metric)

    def reset(self):
        for name in self._names:
            getattr(self, name).reset()

    def update(self, **kwargs):
        for name in self._names:
            getattr(self, name).update(**kwargs)

    def compute(self):
        return {name: getattr(self, name).compute() for name in self._names}
