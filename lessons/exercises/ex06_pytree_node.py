"""Exercise 6: make a class a pytree node, so grad, jit and vmap see inside it.

Read first: tinygrad_tracer/tree_util.py (register_pytree_node and its docstring),
then docs/READING.md step 11 (how api.jvp flattens its arguments).

`Particle(pos, vel, label)` holds two arrays and a Python string. Transformations
only handle flat lists of arrays: `tree_flatten` asks the class's flatten
function for (children, aux_data), where children are the arrays (the leaves
below this node) and aux_data is everything static (hashable, not an array:
here the label). `unflatten(aux_data, children)` rebuilds the object.
Keep the order of the children the same in both functions.

Check:  python lessons/exercises/ex06_pytree_node.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex06
"""
from tinygrad_tracer import tree_util


class Particle:
    def __init__(self, pos, vel, label):
        self.pos, self.vel, self.label = pos, vel, label

    def __repr__(self):
        return f"Particle(pos={self.pos}, vel={self.vel}, label={self.label!r})"


def particle_flatten(p):
    # YOUR CODE HERE: return (children, aux_data)
    raise NotImplementedError(
        "ex06 is not done yet: write particle_flatten in lessons/exercises/ex06_pytree_node.py "
        "(read first: tinygrad_tracer/tree_util.py, register_pytree_node)")


def particle_unflatten(aux_data, children):
    # YOUR CODE HERE: return a Particle
    raise NotImplementedError(
        "ex06 is not done yet: write particle_unflatten in lessons/exercises/ex06_pytree_node.py "
        "(read first: tinygrad_tracer/tree_util.py, register_pytree_node)")


tree_util.register_pytree_node(Particle, particle_flatten, particle_unflatten)

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
