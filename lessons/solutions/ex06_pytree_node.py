"""Exercise 6 (solution): the arrays are children, the label is aux data."""
from tinygrad_tracer import tree_util


class Particle:
    def __init__(self, pos, vel, label):
        self.pos, self.vel, self.label = pos, vel, label

    def __repr__(self):
        return f"Particle(pos={self.pos}, vel={self.vel}, label={self.label!r})"


def particle_flatten(p):
    return (p.pos, p.vel), p.label


def particle_unflatten(aux_data, children):
    pos, vel = children
    return Particle(pos, vel, aux_data)


tree_util.register_pytree_node(Particle, particle_flatten, particle_unflatten)
