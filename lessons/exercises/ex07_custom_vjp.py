"""Exercise 7: a custom VJP for a numerically stable log(1 + exp(x)).

Read first: tinygrad_tracer/custom_derivatives.py (custom_vjp's docstring), and
docs/READING.md step 16 (what vjp computes).

`log1pexp(x)` below is computed stably (jnp.logaddexp), but differentiating
the textbook formula log(1 + exp(x)) gives exp(x) / (1 + exp(x)), which is
inf / inf = nan for x = 100. Give the function a custom VJP:
  * `log1pexp_fwd(x)` returns (the output, the residuals bwd needs),
  * `log1pexp_bwd(residuals, ct)` returns a TUPLE with one cotangent per
    argument: the output cotangent `ct` times the derivative, which is the
    logistic sigmoid, computed stably with `jax.nn.sigmoid`.

Check:  python lessons/exercises/ex07_custom_vjp.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex07
"""
import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp


@jax.custom_vjp
def log1pexp(x):
    return jnp.logaddexp(0.0, x)


def log1pexp_fwd(x):
    # YOUR CODE HERE: return (output, residuals)
    raise NotImplementedError(
        "ex07 is not done yet: write log1pexp_fwd in lessons/exercises/ex07_custom_vjp.py "
        "(read first: tinygrad_tracer/custom_derivatives.py, custom_vjp)")


def log1pexp_bwd(residuals, ct):
    # YOUR CODE HERE: return (cotangent of x,)
    raise NotImplementedError(
        "ex07 is not done yet: write log1pexp_bwd in lessons/exercises/ex07_custom_vjp.py "
        "(read first: tinygrad_tracer/custom_derivatives.py, custom_vjp)")


log1pexp.defvjp(log1pexp_fwd, log1pexp_bwd)

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
