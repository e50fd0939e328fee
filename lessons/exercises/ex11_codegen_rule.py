"""Exercise 11: the Numba backend's code for a new elementwise primitive.

Read first: docs/READING.md steps 24-25 (tinygrad_tracer/backends/fusion.py,
numba_cpu.py), then the docstring of tinygrad_tracer/backends/codegen.py.

`jit` on the Numba backend fuses chains of elementwise equations into one
loop; inside the loop each equation is one line of Python source computing ONE
element. `codegen.SCALAR_RULES[prim](eqn, x)` returns that source as a
string, given the source `x` of the input element (e.g. "a"). A primitive
without a rule (or whose rule returns None) runs through its NumPy impl, as a
separate step outside the kernel: `jit(f).lower(x).as_text()` lists it under
"fallbacks".

Write the rule of axpb(x, a=..., b=...) = a * x + b. `eqn.params` holds a and
b (Python floats); `eqn.out_binders[0].aval.dtype` is the dtype. Constants
must be typed: `codegen.const(2.5, np.float32)` gives "np.float32(2.5)" (a
bare 2.5 is float64, and would make Numba compute in float64, rounding
differently from the eager result). Return None for non-float dtypes.

Check:  python lessons/exercises/ex11_codegen_rule.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex11
"""
import numpy as np  # noqa: F401

from tinygrad_tracer.backends import codegen

from classroom import axpb, axpb_p  # noqa: F401


def axpb_scalar(eqn, x):
    # YOUR CODE HERE: return the source of a * x + b for one element (or None)
    raise NotImplementedError(
        "ex11 is not done yet: write axpb_scalar in lessons/exercises/ex11_codegen_rule.py "
        "(read first: docs/READING.md steps 24-25, tinygrad_tracer/backends/codegen.py)")


codegen.SCALAR_RULES[axpb_p] = axpb_scalar

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
