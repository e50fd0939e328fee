"""optax against Optax's own numbers (tests/test_optax.py).

The golden values below were printed by Optax 0.2.8 (with JAX 0.10.2) for the
same gradients and parameters: three steps of each optimizer on
P0 = [1, 2, 3] with the gradients GRADS, eight steps of each schedule.
`test_live_optax` recomputes them when Optax is installed.
"""
import numpy as np
import pytest

import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import optax, optim

GRADS = [np.array([0.5, -1.0, 2.0], np.float32), np.array([0.1, 0.2, -0.3], np.float32),
         np.array([-1.0, 0.0, 1.0], np.float32)]
P0 = np.array([1.0, 2.0, 3.0], np.float32)


def optimizers(o):
    """The same optimizers by name, from `o` (ours or Optax)."""
    return {'sgd': o.sgd(0.1), 'sgd_m': o.sgd(0.1, momentum=0.9),
            'sgd_n': o.sgd(0.1, momentum=0.9, nesterov=True),
            'adam': o.adam(0.01), 'adamw': o.adamw(0.005, 0.9), 'rmsprop': o.rmsprop(0.01),
            'rmsprop_m': o.rmsprop(0.01, momentum=0.9), 'adagrad': o.adagrad(0.1), 'lion': o.lion(0.01),
            'clip': o.chain(o.clip(0.4), o.sgd(1.0)),
            'clip_gn': o.chain(o.clip_by_global_norm(1.0), o.sgd(1.0)),
            'sched': o.sgd(o.warmup_cosine_decay_schedule(0.0, 0.1, 2, 5, 0.01))}


def schedules(o):
    return {'const': o.constant_schedule(0.3), 'lin': o.linear_schedule(1.0, 0.1, 4, 1),
            'exp': o.exponential_decay(1.0, 2, 0.5, 1, False, 0.3),
            'exp_st': o.exponential_decay(1.0, 2, 0.5, staircase=True),
            'cos': o.cosine_decay_schedule(1.0, 4, 0.1),
            'wcos': o.warmup_cosine_decay_schedule(0.0, 1.0, 2, 6, 0.1)}


# Parameters after each of the three steps, as Optax computes them.
OPTAX_STEPS = {
    'sgd': [[0.949999988079071, 2.0999999046325684, 2.799999952316284], [0.9399999976158142, 2.0799999237060547, 2.8299999237060547], [1.0399999618530273, 2.0799999237060547, 2.7300000190734863]],
    'sgd_m': [[0.949999988079071, 2.0999999046325684, 2.799999952316284], [0.8949999809265137, 2.169999837875366, 2.6499998569488525], [0.9454999566078186, 2.232999801635742, 2.4149999618530273]],
    'sgd_n': [[0.9049999713897705, 2.190000057220459, 2.619999885559082], [0.8454999923706055, 2.2330000400543213, 2.5149998664855957], [0.9909499883651733, 2.2897000312805176, 2.2034997940063477]],
    'adam': [[0.9900000691413879, 2.009999990463257, 2.990000009536743], [0.9819697141647339, 2.0151102542877197, 2.984477996826172], [0.9848442673683167, 2.0190603733062744, 2.977818727493286]],
    'adamw': [[0.9949995279312134, 2.0049989223480225, 2.9949984550476074], [0.9909838438034058, 2.0075531005859375, 2.9922358989715576], [0.9924206137657166, 2.0095272064208984, 2.9889047145843506]],
    'rmsprop': [[0.9683772325515747, 2.031622886657715, 2.968377113342285], [0.9618539810180664, 2.025099515914917, 2.973315715789795], [0.990584135055542, 2.025099515914917, 2.9581029415130615]],
    'rmsprop_m': [[0.9683772325515747, 2.031622886657715, 2.968377113342285], [0.9333934783935547, 2.0535600185394287, 2.944855213165283], [0.9306382536888123, 2.073303461074829, 2.908472776412964]],
    'adagrad': [[0.915484607219696, 2.095346212387085, 2.9012269973754883], [0.8988179564476013, 2.0766143798828125, 2.9158830642700195], [0.9845672249794006, 2.0766143798828125, 2.871987819671631]],
    'lion': [[0.9899899959564209, 2.0099799633026123, 2.9899699687957764], [0.9799801111221313, 1.9999598264694214, 2.9999401569366455], [0.989970326423645, 2.0099399089813232, 2.989910125732422]],
    'clip': [[0.6000000238418579, 2.4000000953674316, 2.5999999046325684], [0.5, 2.200000047683716, 2.8999998569488525], [0.8999999761581421, 2.200000047683716, 2.499999761581421]],
    'clip_gn': [[0.7817821502685547, 2.4364356994628906, 2.1271286010742188], [0.6817821264266968, 2.236435651779175, 2.427128553390503], [1.3888888359069824, 2.236435651779175, 1.7200217247009277]],
    'sched': [[1.0, 2.0, 3.0], [0.9950000047683716, 1.9900000095367432, 3.015000104904175], [1.0950000286102295, 1.9900000095367432, 2.9150002002716064]],
}
OPTAX_SCHEDULES = {
    'const': [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3],
    'lin': [1.0, 1.0, 0.7749999761581421, 0.550000011920929, 0.32499998807907104, 0.10000000149011612, 0.10000000149011612, 0.10000000149011612],
    'exp': [1.0, 1.0, 0.7071067690849304, 0.5, 0.3535533845424652, 0.30000001192092896, 0.30000001192092896, 0.30000001192092896],
    'exp_st': [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125],
    'cos': [1.0, 0.8681980967521667, 0.5499999523162842, 0.23180195689201355, 0.10000000149011612, 0.10000000149011612, 0.10000000149011612, 0.10000000149011612],
    'wcos': [0.0, 0.5, 1.0, 0.8681980967521667, 0.5499999523162842, 0.23180195689201355, 0.10000000149011612, 0.10000000149011612],
}
LOGITS = np.array([[-1.5, 0.3, 2.0], [0.2, -0.1, 0.0]], np.float32)
TARGETS = np.array([[1., 0., 1.], [0., 1., 0.]], np.float32)
OPTAX_SIGMOID_BCE = [[1.7014132738113403, 0.8543552756309509, 0.12692800164222717], [0.7981389164924622, 0.7443966865539551, 0.6931471824645996]]
OPTAX_HUBER_HALF = [[1.125, 0.04500000178813934, 0.375], [0.020000001415610313, 0.42500001192092896, 0.0]]


def run(opt, o=optax, jnp_=jnp):
    params, state, out = jnp_.asarray(P0), opt.init(jnp_.asarray(P0)), []
    for g in GRADS:
        updates, state = opt.update(jnp_.asarray(g), state, params)
        params = o.apply_updates(params, updates)
        out.append(np.asarray(params).tolist())
    return out


@pytest.mark.parametrize('name', list(OPTAX_STEPS))
def test_optimizer_steps_match_optax(name):
    np.testing.assert_allclose(run(optimizers(optax)[name]), OPTAX_STEPS[name], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('name', list(OPTAX_SCHEDULES))
def test_schedules_match_optax(name):
    schedule = schedules(optax)[name]
    got = [float(schedule(jnp.int32(i))) for i in range(8)]
    np.testing.assert_allclose(got, OPTAX_SCHEDULES[name], rtol=1e-6, atol=1e-7)


def test_losses_match_optax():
    np.testing.assert_allclose(np.asarray(optax.sigmoid_binary_cross_entropy(LOGITS, TARGETS)),
                               OPTAX_SIGMOID_BCE, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(optax.huber_loss(LOGITS, TARGETS, delta=0.5)),
                               OPTAX_HUBER_HALF, rtol=1e-6)


def test_optim_is_an_alias():
    assert optim.adamw is optax.adamw and set(optim.__all__) == set(optax.__all__)


def test_live_optax(real_optax):
    """With Optax installed, its numbers are still the golden ones above."""
    import jax.numpy as real_jnp
    for name, opt in optimizers(real_optax).items():
        np.testing.assert_allclose(run(opt, real_optax, real_jnp), OPTAX_STEPS[name], rtol=1e-6, atol=1e-7)
