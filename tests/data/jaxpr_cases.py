"""Functions from JAX's tutorials whose jaxprs we print exactly as JAX 0.10.2 does.

`cases(jax, jnp, lax)` builds them on either library (ours or JAX), so one list
feeds the golden file (make_jaxpr_golden.py, run with JAX) and the tests
(tests/test_jaxpr_golden.py, run with or without JAX). The name says where the
function comes from: jaxprs (the "Understanding Jaxprs" tutorial), jit, vmap,
autodiff, control (control flow), pytrees, state (stateful computations),
sharp (The Sharp Bits).
"""
from collections import namedtuple

import numpy as np

f32 = np.float32
Params = namedtuple('Params', ['weight', 'bias'])


def cases(jax, jnp, lax):
    x8, y8 = np.zeros(8, f32), np.ones(8, f32)
    x5 = np.arange(5.0, dtype=f32)
    X = np.arange(12.0, dtype=f32).reshape(4, 3)

    def func1(first, second):
        temp = first + jnp.sin(second) * 3.
        return jnp.sum(temp)

    def func7(arg):
        return lax.cond(arg >= 0., lambda xtrue: xtrue + 3., lambda xfalse: xfalse - 3., arg)

    def func8(arg1, arg2):
        return lax.cond(arg1 >= 0., lambda xtrue: xtrue[0], lambda xfalse: jnp.float32(2.) * xfalse[1],
                        (arg1, arg2))

    def func10(arg, n):
        ones = jnp.ones(arg.shape)
        return lax.fori_loop(0, n, lambda i, carry: carry + ones * 3. + arg, arg + ones)

    def func11(arr, extra):
        ones = jnp.ones(arr.shape)

        def body(carry, aelems):
            ae1, ae2 = aelems
            return (carry + ae1 * ae2 + extra, carry)
        return lax.scan(body, 0., (arr, ones))

    def func12(arg):
        @jax.jit
        def inner(x):
            return x + arg * jnp.ones(1)
        return arg + inner(arg - 2.)

    def log2(x):
        return jnp.log(x) / jnp.log(2.0)

    def selu(x, alpha=1.67, lmbda=1.05):
        return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)

    def norm(X):
        X = X - X.mean(0)
        return X / X.std(0)

    def convolve(x, w):
        output = []
        for i in range(1, len(x) - 1):
            output.append(jnp.dot(x[i - 1:i + 2], w))
        return jnp.array(output)

    def sum_logistic(x):
        return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))

    def predict(W, b, inputs):
        return 1.0 / (1.0 + jnp.exp(-(jnp.dot(inputs, W) + b)))

    def loss(W, b):
        preds = predict(W, b, X)
        targets = jnp.array([True, True, False, True])
        label_probs = preds * targets + (1 - preds) * (1 - targets)
        return -jnp.sum(jnp.log(label_probs))

    def mlp_forward(params, x):
        *hidden, last = params
        for layer in hidden:
            x = jax.nn.relu(x @ layer['weights'] + layer['biases'])
        return x @ last['weights'] + last['biases']

    def mlp_loss(params, x, y):
        return jnp.mean((mlp_forward(params, x) - y) ** 2)

    mlp = [dict(weights=np.ones((1, 4), f32), biases=np.ones(4, f32)),
           dict(weights=np.ones((4, 1), f32), biases=np.ones(1, f32))]
    xs = np.linspace(-1, 1, 6, dtype=f32).reshape(6, 1)

    def lin_loss(params, x, y):
        pred = params.weight * x + params.bias
        return jnp.mean((pred - y) ** 2)

    def lin_update(params, x, y):
        grads = jax.grad(lin_loss)(params, x, y)
        return jax.tree.map(lambda p, g: p - 0.005 * g, params, grads)

    lin = Params(f32(1.0), f32(0.0))

    def counter(n):
        return n + 1

    def pure_uses_internal_state(x):
        state = dict(even=0, odd=0)
        for i in range(10):
            state['even' if i % 2 == 0 else 'odd'] += x
        return state['even'] + state['odd']

    def switch3(i, x):
        return lax.switch(i, [lambda x: x + 1., lambda x: x * 2., lambda x: -x], x)

    def while_count(x):
        return lax.while_loop(lambda c: c < 10, lambda c: c + 1, x)

    def fori_sum(n):
        return lax.fori_loop(0, n, lambda i, acc: acc + i, 0)

    def where_max(x):
        return jnp.where(x > 1.0, x, 0.0)

    def logical(x):
        return jnp.logical_and(x > 0, x < 3)

    def at_set(x):
        return x.at[1].set(10.)

    def dyn_slice(x, i):
        return lax.dynamic_slice(x, (i,), (2,))

    def index_oob(x):
        return x[11]

    def full_like(x):
        return jnp.full(x.shape, 2.5) + jnp.zeros_like(x) + jnp.ones_like(x)

    def tanh_ones(x):
        return jnp.tanh(x) * jnp.ones(3)

    def g_loop(x, n):
        i = 0
        while i < n:
            i += 1
        return x + i

    def cube_sum(x):
        return jnp.sum(x ** 3)

    return {
        'jaxprs_func1': (func1, (x8, y8)),
        'jaxprs_func7': (func7, (5.,)),
        'jaxprs_func8': (func8, (5., 4.)),
        'jaxprs_func10': (lambda a: func10(a, 5), (np.ones(16, f32),)),
        'jaxprs_func11': (func11, (np.ones(16, f32), 5.)),
        'jaxprs_func12': (func12, (5.,)),
        'jaxprs_log2': (log2, (3.0,)),
        'jaxprs_exp_tanh': (lambda x: jnp.exp(jnp.tanh(x)), (x5,)),
        'jit_selu': (selu, (x5,)),
        'jit_selu_jit': (jax.jit(selu), (x5,)),
        'jit_norm': (norm, (X,)),
        'jit_dot_plus_one': (lambda x, y: jnp.dot(x + 1, y + 1), (np.ones((3, 4), f32), np.ones(4, f32))),
        'jit_sin_neg': (lambda x: -(jnp.sin(x) * 2) + x, (x5,)),
        'vmap_convolve': (convolve, (x5, np.array([2., 3., 4.], f32))),
        'vmap_batched': (jax.vmap(convolve), (np.stack([x5, x5]), np.ones((2, 3), f32))),
        'vmap_in_axes_none': (jax.vmap(convolve, in_axes=[0, None]), (np.stack([x5, x5]), np.ones(3, f32))),
        'vmap_dot': (jax.vmap(jnp.dot), (np.ones((3, 4), f32), np.ones((3, 4), f32))),
        'autodiff_grad_tanh': (jax.grad(jnp.tanh), (2.0,)),
        'autodiff_grad_grad_tanh': (jax.grad(jax.grad(jnp.tanh)), (2.0,)),
        'autodiff_sum_logistic': (jax.grad(sum_logistic), (np.arange(3.0, dtype=f32),)),
        'autodiff_loss': (loss, (np.ones(3, f32), 0.5)),
        'autodiff_grad_loss': (jax.grad(loss, argnums=(0, 1)), (np.ones(3, f32), 0.5)),
        'autodiff_cube': (jax.grad(lambda x: x * x * x), (3.0,)),
        'autodiff_stop_gradient': (jax.grad(lambda x: x * lax.stop_gradient(x) ** 2), (2.0,)),
        'control_cond': (func7, (1.0,)),
        'control_switch': (switch3, (1, 2.0)),
        'control_while': (while_count, (0,)),
        'control_fori': (fori_sum, (5,)),
        'control_where': (where_max, (x5,)),
        'control_logical': (logical, (x5,)),
        'pytrees_double': (lambda t: jax.tree.map(lambda x: x * 2, t), ([1., 2., 3.],)),
        'pytrees_mlp_loss': (mlp_loss, (mlp, xs, xs ** 2)),
        'state_counter': (counter, (0,)),
        'state_lin_update': (lin_update, (lin, np.ones(4, f32), np.ones(4, f32))),
        'state_internal': (pure_uses_internal_state, (1.0,)),
        'sharp_at_set': (at_set, (x5,)),
        'sharp_dynamic_slice': (dyn_slice, (x5, 1)),
        'sharp_index_oob': (index_oob, (np.arange(10, dtype=np.int32),)),
        'sharp_full_like': (full_like, (x5,)),
        'sharp_tanh_ones': (tanh_ones, (np.ones(3, f32),)),
        'jit_static_loop': (lambda x: g_loop(x, 5), (x5,)),
        'vmap_matvec': (jax.vmap(lambda m, v: m @ v, in_axes=(None, 0)), (np.ones((2, 3), f32), np.ones((4, 3), f32))),
        'autodiff_jacfwd': (jax.jacfwd(lambda x: jnp.sin(x) * x), (np.ones(3, f32),)),
        'autodiff_jacrev': (jax.jacrev(lambda x: jnp.sin(x) * x), (np.ones(3, f32),)),
        'autodiff_hessian': (jax.hessian(cube_sum), (np.ones(3, f32),)),
        'autodiff_value_and_grad': (jax.value_and_grad(sum_logistic), (np.arange(3.0, dtype=f32),)),
        'control_cond_two_operands': (lambda x, y: lax.cond(x > y, lambda a, b: a - b, lambda a, b: b - a, x, y),
                                      (1.0, 2.0)),
        'sharp_arange_reshape': (lambda x: (x * jnp.arange(5.0) + jnp.arange(1, 11, 2)).reshape(5, 1), (x5,)),
        'pytrees_dict': (lambda d: jax.tree.map(lambda v: v * 2 + 1, d), ({'a': x5, 'b': 2.0},)),
    }
