"""The jaxpr printer: golden strings as JAX 0.10 prints them, and a cross-check with JAX."""
import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax
from tinygrad_tracer.api import grad
from tinygrad_tracer.jaxpr import Names, name_vars, pp_jaxpr

S = jax.ShapeDtypeStruct
f32 = np.float32


def text(f, *args):
    return str(jax.make_jaxpr(f)(*args))


# Strings printed by jax.make_jaxpr (JAX 0.10.2) for the same functions.
GOLDEN = {
    'sin_mul': ((lambda x: jnp.sin(x) * 2, 1.0),
                "{ lambda ; a:f32[]. let b:f32[] = sin a; c:f32[] = mul b 2.0:f32[] in (c,) }"),
    'grad': ((grad(lambda x: jnp.sin(x) * 2), 1.0),
             "{ lambda ; a:f32[]. let\n"
             "    b:f32[] = sin a\n"
             "    c:f32[] = cos a\n"
             "    _:f32[] = mul b 2.0:f32[]\n"
             "    d:f32[] = mul 1.0:f32[] 2.0:f32[]\n"
             "    e:f32[] = mul d c\n"
             "  in (e,) }"),
    'identity': ((lambda x: x, 1.0), "{ lambda ; a:f32[]. let  in (a,) }"),
    'unused': ((lambda x: (jnp.sin(x) * 2, jnp.cos(x))[1], 1.0),
               "{ lambda ; a:f32[]. let\n"
               "    b:f32[] = sin a\n"
               "    _:f32[] = mul b 2.0:f32[]\n"
               "    c:f32[] = cos a\n"
               "  in (c,) }"),
    'constvar': ((lambda x: x * np.arange(3.0, dtype=f32), np.ones(3, f32)),   # (jnp.arange is an iota)
                 "{ lambda a:f32[3]; b:f32[3]. let c:f32[3] = mul b a in (c,) }"),
    'literals': ((lambda x: (x > 0, x.astype(int) + 1, True), 1.0),
                 "{ lambda ; a:f32[]. let\n"
                 "    b:bool[] = gt a 0.0:f32[]\n"
                 "    c:i32[] = convert_element_type[new_dtype=int32 weak_type=False] a\n"
                 "    d:i32[] = add c 1:i32[]\n"
                 "  in (b, d, True:bool[]) }"),
    'grad_of_jit': ((grad(jax.jit(lambda x: jnp.sin(x) * 2)), 1.0),
                    "{ lambda ; a:f32[]. let\n"
                    "    _:f32[] b:f32[] = jit[\n"
                    "      name=<lambda>\n"
                    "      jaxpr={ lambda ; a:f32[]. let\n"
                    "          c:f32[] = sin a\n"
                    "          b:f32[] = cos a\n"
                    "          _:f32[] = mul c 2.0:f32[]\n"
                    "        in (_, b) }\n"
                    "    ] a\n"
                    "    d:f32[] = jit[\n"
                    "      name=<lambda>\n"
                    "      jaxpr={ lambda ; b:f32[] e:f32[]. let\n"
                    "          f:f32[] = mul e 2.0:f32[]\n"
                    "          d:f32[] = mul f b\n"
                    "        in (d,) }\n"
                    "    ] b 1.0:f32[]\n"
                    "  in (d,) }"),
    'cond': ((lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x), 1.0),
             "{ lambda ; a:f32[]. let\n"
             "    b:bool[] = gt a 0.0:f32[]\n"
             "    c:i32[] = convert_element_type[new_dtype=int32 weak_type=False] b\n"
             "    d:f32[] = cond[\n"
             "      branches=(\n"
             "        { lambda ; e:f32[]. let f:f32[] = cos e in (f,) }\n"
             "        { lambda ; g:f32[]. let h:f32[] = sin g in (h,) }\n"
             "      )\n"
             "    ] c a\n"
             "  in (d,) }"),
    'cond_constant_pred': ((lambda x: lax.cond(True, lambda: 1., lambda: 2.), 1.0),
                           "{ lambda ; a:f32[]. let\n"
                           "    b:f32[] = cond[\n"
                           "      branches=(\n"
                           "        { lambda ; . let  in (2.0:f32[],) }\n"
                           "        { lambda ; . let  in (1.0:f32[],) }\n"
                           "      )\n"
                           "    ] 1:i32[]\n"
                           "  in (b,) }"),
    'fori_loop': ((lambda x: lax.fori_loop(0, 3, lambda i, c: c * 2, x), 1.0),
                  "{ lambda ; a:f32[]. let\n"
                  "    _:i32[] b:f32[] = scan[\n"
                  "      jaxpr={ lambda ; c:i32[] d:f32[]. let\n"
                  "          e:i32[] = add c 1:i32[]\n"
                  "          f:f32[] = mul d 2.0:f32[]\n"
                  "        in (e, f) }\n"
                  "      length=3\n"
                  "      num_carry=2\n"
                  "      num_consts=0\n"
                  "      reverse=False\n"
                  "      unroll=1\n"
                  "    ] 0:i32[] a\n"
                  "  in (b,) }"),
    'while_loop': ((lambda x: lax.while_loop(lambda c: c < 3, lambda c: c * 2, x), 1.0),
                   "{ lambda ; a:f32[]. let\n"
                   "    b:f32[] = while[\n"
                   "      body_jaxpr={ lambda ; c:f32[]. let d:f32[] = mul c 2.0:f32[] in (d,) }\n"
                   "      body_nconsts=0\n"
                   "      cond_jaxpr={ lambda ; e:f32[]. let f:bool[] = lt e 3.0:f32[] in (f,) }\n"
                   "      cond_nconsts=0\n"
                   "    ] a\n"
                   "  in (b,) }"),
    # layout: a jaxpr stays on one line when it fits in 80 columns, its closing ` }` included
    'width_80': ((lambda x: lax.integer_pow(x, 2), S((1000, 1000), f32)),
                 "{ lambda ; a:f32[1000,1000]. let b:f32[1000,1000] = integer_pow[y=2] a in (b,) }"),
    'width_81': ((lambda x: jnp.sin(jnp.cos(x)), S((10000,), f32)),
                 "{ lambda ; a:f32[10000]. let\n    b:f32[10000] = cos a\n    c:f32[10000] = sin b\n  in (c,) }"),
    # an equation's params stay on one line up to column 80; its operands may go past
    'params_to_col_80': ((lambda x: lax.convert_element_type(x, np.int32), S((100000, 100000), f32)),
                         "{ lambda ; a:f32[100000,100000]. let\n"
                         "    b:i32[100000,100000] = convert_element_type[new_dtype=int32 weak_type=False] a\n"
                         "  in (b,) }"),
    'params_broken': ((lambda x: lax.convert_element_type(x, np.int32), S((10, 10000, 10000), f32)),
                      "{ lambda ; a:f32[10,10000,10000]. let\n"
                      "    b:i32[10,10000,10000] = convert_element_type[\n"
                      "      new_dtype=int32\n"
                      "      weak_type=False\n"
                      "    ] a\n"
                      "  in (b,) }"),
    'nested_fits': ((lambda x: lax.cond(True, jnp.sin, jnp.cos, x), S((10000000, 10), f32)),
                    "{ lambda ; a:f32[10000000,10]. let\n"
                    "    b:f32[10000000,10] = cond[\n"
                    "      branches=(\n"
                    "        { lambda ; c:f32[10000000,10]. let d:f32[10000000,10] = cos c in (d,) }\n"
                    "        { lambda ; e:f32[10000000,10]. let f:f32[10000000,10] = sin e in (f,) }\n"
                    "      )\n"
                    "    ] 1:i32[] a\n"
                    "  in (b,) }"),
    'nested_broken': ((lambda x: lax.cond(True, jnp.sin, jnp.cos, x), S((10000000, 100), f32)),
                      "{ lambda ; a:f32[10000000,100]. let\n"
                      "    b:f32[10000000,100] = cond[\n"
                      "      branches=(\n"
                      "        { lambda ; c:f32[10000000,100]. let\n"
                      "            d:f32[10000000,100] = cos c\n"
                      "          in (d,) }\n"
                      "        { lambda ; e:f32[10000000,100]. let\n"
                      "            f:f32[10000000,100] = sin e\n"
                      "          in (f,) }\n"
                      "      )\n"
                      "    ] 1:i32[] a\n"
                      "  in (b,) }"),
    # long argument lists wrap where the next one would pass column 80
    'many_args': ((lambda *xs: xs[0] * 2.0,) + (1.0,) * 10,
                  "{ lambda ; a:f32[] b:f32[] c:f32[] d:f32[] e:f32[] f:f32[] g:f32[] h:f32[] i:f32[]\n"
                  "    j:f32[]. let\n"
                  "    k:f32[] = mul a 2.0:f32[]\n"
                  "  in (k,) }"),
}


@pytest.mark.parametrize('name', list(GOLDEN))
def test_golden(name):
    (f, *args), want = GOLDEN[name]
    assert text(f, *args) == want


def test_jit_printout():
    assert text(jax.jit(lambda x: jnp.sin(x) * 2), 1.0) == (
        "{ lambda ; a:f32[]. let\n"
        "    b:f32[] = jit[\n"
        "      name=<lambda>\n"
        "      jaxpr={ lambda ; a:f32[]. let\n"
        "          c:f32[] = sin a\n"
        "          b:f32[] = mul c 2.0:f32[]\n"
        "        in (b,) }\n"
        "    ] a\n"
        "  in (b,) }")


def test_names_after_z():
    def f(x):
        for _ in range(28):
            x = jnp.sin(x)
        return x
    lines = text(f, 1.0).splitlines()
    assert lines[25:29] == ["    z:f32[] = sin y", "    ba:f32[] = sin z", "    bb:f32[] = sin ba",
                            "    bc:f32[] = sin bb"]


def test_names_object_is_shared_with_callers():
    closed = jax.make_jaxpr(lambda x, y: x * y)(1.0, 2.0)
    names = Names()
    pp_jaxpr(closed.jaxpr, names)
    assert [names[v] for v in closed.jaxpr.invars] == ['a', 'b']
    assert name_vars(closed.jaxpr).names == names.names   # the same names, no text laid out


# --- cross-check against JAX itself -----------------------------------------------------------

def _cases(jx, np_, lx):
    w = np.arange(3.0, dtype=f32)
    return {
        'sin_mul': (lambda x: np_.sin(x) * 2, (1.0,)),
        'grad': (jx.grad(lambda x: np_.sin(x) * 2), (1.0,)),
        'jit': (jx.jit(lambda x: np_.sin(x) * 2), (1.0,)),
        'grad_jit': (jx.grad(jx.jit(lambda x: np_.sin(x) * 3.0)), (1.0,)),
        'many_args': (lambda *xs: xs[0] * 2.0, (1.0,) * 12),
        'chain': (lambda x: np_.exp(np_.sin(np_.cos(np_.tanh(x)))) + np_.log(x) * x - x / 2.0, (1.0,)),
        'const': (lambda x: x * w, (np.ones(3, f32),)),
        'ints': (lambda i: i + 1, (np.int32(3),)),
        'multi_out': (lambda x: (x + 1, x * 2), (1.0,)),
        'transpose': (lambda x: x.T, (np.ones((2, 3), f32),)),
        'cond': (lambda x: lx.cond(x > 0, np_.sin, np_.cos, x), (1.0,)),
        'cond_closure': (lambda x: lx.cond(x > 0, lambda: x * 2.0, lambda: x), (1.0,)),
        'fori': (lambda x: lx.fori_loop(0, 3, lambda i, c: c * 2, x), (1.0,)),
        'while': (lambda x: lx.while_loop(lambda c: c < 3, lambda c: c * 2, x), (1.0,)),
        'scan': (lambda x: lx.scan(lambda c, v: (c + v, c * v), x[0], x), (np.ones(3, f32),)),
        'vmap_sin': (jx.vmap(np_.sin), (np.ones(3, f32),)),
    }


@pytest.mark.parametrize('name', list(_cases(jax, jnp, lax)))
def test_same_text_as_jax(name, real_jax):
    real = real_jax
    import jax.numpy as real_jnp
    f_ours, args = _cases(jax, jnp, lax)[name]
    f_jax, _ = _cases(real, real_jnp, real.lax)[name]
    assert str(jax.make_jaxpr(f_ours)(*args)) == str(real.make_jaxpr(f_jax)(*args))
