"""The errors users meet. Each message says what went wrong *and* how to fix it."""


class TinyTracerError(Exception):
    """Base class of tinygrad_tracer's own errors."""


class ConcretizationTypeError(TinyTracerError, TypeError):
    """A traced (abstract) value was used where a concrete Python value is needed."""


class TracerBoolConversionError(ConcretizationTypeError):
    """`bool()` / `if` / `while` on a traced value."""


class TracerIntegerConversionError(ConcretizationTypeError):
    """`int()` / `operator.index` on a traced value."""


class TracerArrayConversionError(TinyTracerError, TypeError):
    """NumPy (`np.asarray(x)`, `np.sin(x)`, ...) was called on a traced value."""


class NonConcreteBooleanIndexError(TinyTracerError, IndexError):
    """`x[mask]` with a traced boolean mask: the result's shape would depend on
    the mask's values, which jit does not know."""


class UnexpectedTracerError(TinyTracerError):
    """A tracer escaped the transformation that created it (a 'leaked' tracer)."""


class MissingRuleError(TinyTracerError, NotImplementedError):
    """A primitive has no rule for a transformation (e.g. no batching rule)."""

    def __init__(self, transform, prim):
        super().__init__(
            f"No {transform} rule for primitive '{prim}'. Every primitive needs one entry "
            f"in the {transform} rule table; add it next to the other rules of that "
            f"transformation.")


class RuleOutputError(TinyTracerError, TypeError):
    """A primitive's rule (impl, JVP, transpose or batching) returned something other
    than what the primitive's abstract evaluation says it must: the wrong structure,
    shape, dtype or batch dim. Raised at the rule, before the mistake becomes a
    wrong number further on."""

    def __init__(self, kind, prim, problem, returned, expected):
        self.kind, self.prim = kind, prim
        super().__init__(
            f"The {kind} rule of primitive '{prim}' {problem}.\n"
            f"  it returned: {returned}\n"
            f"  expected:    {expected}\n"
            f"Fix the {kind} rule registered for '{prim}'; what it must return is what the "
            f"primitive's abstract evaluation gives for the same inputs.")


def concretization_message(aval, what, context=""):
    """The shared explanation for ConcretizationTypeError and its subclasses."""
    ctx = f" {context}" if context else ""
    return (
        f"Attempted {what} of a traced value: abstract array {aval.str_short()}{ctx}.\n"
        "Under jit (and inside lax control flow) values are abstract: only their shape "
        "and dtype are known while the function is traced, so Python cannot branch on "
        "them or turn them into Python numbers.\n"
        "Fixes:\n"
        "  * mark the argument static: jit(f, static_argnums=...) or "
        "static_argnames=... (it must then be hashable, and each new value retraces);\n"
        "  * or keep the decision in the computation: jnp.where(pred, a, b) or "
        "lax.cond(pred, true_fun, false_fun, *operands).")


def conversion_message(what, aval, context="", differentiated=False):
    """Why a tracer refuses `what` (float(), np.asarray(), .tolist(), ...), which
    would take its value out of JAX, and the fixes. `differentiated`: the value
    is known, but a derivative flows through it (grad, jvp, vjp, linearize)."""
    ctx = f" {context}" if context else ""
    head = f"{what} was called on a traced value: {aval.str_short()}{ctx}.\n"
    keep = ("  * keep the value a jax array: use jax.numpy instead of NumPy (jnp.sin "
            "instead of np.sin, jnp.asarray instead of np.asarray) and remove the "
            "float() / complex() / .tolist();\n")
    if differentiated:
        return (head + "The value is being differentiated (grad, vjp and linearize run jvp): "
                "a NumPy array or Python number holds only the value, so the derivative "
                "flowing through it would be silently lost.\nFixes:\n" + keep +
                "  * if the derivative should be dropped on purpose, convert "
                "jax.lax.stop_gradient(x) instead of x.")
    return (head + "Under jit and lax control flow values are abstract (only their shape "
            "and dtype are known while the function is traced), and under vmap a value "
            "stands for a whole batch: neither can become a NumPy array or a Python "
            "number.\nFixes:\n" + keep +
            "  * if a Python value is really needed, pass it as a static argument "
            "(jit(f, static_argnums=...)) or, under vmap, unbatched (in_axes=None).")
