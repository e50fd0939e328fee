"""WRONG (forgot_ct): the tests of ex07 must fail on this.
Exercise 7 (solution): keep x, and differentiate with the stable sigmoid."""
import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp


@jax.custom_vjp
def log1pexp(x):
    return jnp.logaddexp(0.0, x)


def log1pexp_fwd(x):
    return log1pexp(x), x


def log1pexp_bwd(x, ct):
    return (jax.nn.sigmoid(x),)


log1pexp.defvjp(log1pexp_fwd, log1pexp_bwd)
