import numpy as np
import tinygrad_tracer as jax, tinygrad_tracer.numpy as jnp
@jax.custom_jvp
def f(x):
    return jnp.sin(x)
@f.defjvp
def f_jvp(primals, tangents):
    x, = primals; t, = tangents
    return f(x), 2.0 * t   # deliberately wrong
print(f(1.0), jax.grad(f)(1.0), jax.jvp(f, (1.0,), (1.0,)))
print(jax.grad(lambda x: f(x) * x)(1.0), np.sin(1) + 2)
print(jax.jit(jax.grad(f))(1.0))
print(jax.grad(jax.jit(f))(1.0))
print(jax.vmap(jax.grad(f))(jnp.ones(3)))
@jax.custom_vjp
def clip_gradient(x):
    return x
def fwd(x): return x, None
def bwd(res, g): return (jnp.clip(g, -1, 1),)
clip_gradient.defvjp(fwd, bwd)
print(jax.grad(lambda x: clip_gradient(x) * 5.0)(2.0))
print(jax.grad(lambda x: jnp.sum(clip_gradient(x) * jnp.array([0.5, 5.0])))(jnp.ones(2)))
try: jax.jvp(clip_gradient, (1.0,), (1.0,))
except TypeError as e: print("ERR", e)
@jax.custom_vjp
def mysin(x): return jnp.sin(x)
mysin.defvjp(lambda x: (jnp.sin(x), jnp.cos(x)), lambda c, g: (g * c,))
print(jax.grad(jax.grad(mysin))(1.0), -np.sin(1))
print(jax.jit(jax.grad(mysin))(1.0), np.cos(1))
print(jax.grad(jax.jit(mysin))(1.0), np.cos(1))
print("grad of vmap custom_jvp", jax.grad(lambda x: jax.vmap(f)(x).sum())(jnp.ones(3)))
print("vmap of grad custom_vjp", jax.vmap(jax.grad(lambda x: clip_gradient(x) * 5.0))(jnp.ones(3)))
print("grad of vmap custom_vjp", jax.grad(lambda x: (jax.vmap(clip_gradient)(x) * 5.0).sum())(jnp.ones(3)))
print("jacrev custom_vjp", jax.jacrev(lambda x: jax.vmap(mysin)(x))(jnp.ones(2)))
print(jax.make_jaxpr(jax.grad(f))(1.0))
print(jax.make_jaxpr(f)(1.0))
