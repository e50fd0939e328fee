"""viz.explain's page in a real browser, and its display in a notebook (once).

The page test opens the explained gradient of the digits MLP (the network of
lessons/09_digits_mlp.py, about 180 binds) in headless Chromium, driven by
Playwright: Debian's `chromium-headless-shell` (`apt-get install
chromium-headless-shell`; no `playwright install` download). Without Playwright or that browser the page test
skips, saying which is missing; TT_REQUIRE_BROWSER=1 (CI) makes that a failure.
"""
import importlib
import os
import shutil
import sys

import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import nnx, optax
import viz

explain_module = importlib.import_module('viz.explain')   # viz.explain is the function

BROWSERS = ('/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell',
            '/usr/lib/chromium/chromium', '/usr/bin/chromium')


def _missing(why):
    if os.environ.get('TT_REQUIRE_BROWSER') == '1':
        pytest.fail(f"TT_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope='module')
def browser():
    """Headless Chromium (TT_CHROMIUM names another binary)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[dev]')")
    path = os.environ.get('TT_CHROMIUM') or next(
        (p for p in BROWSERS if os.path.exists(p)), None) or shutil.which('chromium')
    if path is None:
        _missing("no headless Chromium found: apt-get install chromium-headless-shell "
                 "(or set TT_CHROMIUM to a Chromium binary)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path)
        yield b
        b.close()


class SimpleNN(nnx.Module):
    """The network of lessons/09_digits_mlp.py (the seed's): 64 pixels, 100, 100, 10 digits."""

    def __init__(self, *, rngs):
        self.layer1 = nnx.Linear(64, 100, rngs=rngs)
        self.layer2 = nnx.Linear(100, 100, rngs=rngs)
        self.layer3 = nnx.Linear(100, 10, rngs=rngs)

    def __call__(self, x):
        x = x.reshape(-1, 64)
        x = nnx.selu(self.layer1(x))
        x = nnx.selu(self.layer2(x))
        return self.layer3(x)


def loss_fun(model, data, labels):
    logits = model(data)
    return optax.softmax_cross_entropy_with_integer_labels(logits=logits, labels=labels).mean()


@pytest.fixture(scope='module')
def mlp_page(tmp_path_factory):
    """(Explanation, path of its page) of the gradient of the digits MLP's loss."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    path = str(tmp_path_factory.mktemp('explain') / 'mlp.html')
    ex = viz.explain(nnx.grad(loss_fun), SimpleNN(rngs=nnx.Rngs(0)),
                     jnp.asarray(digits.images[:16]), jnp.asarray(digits.target[:16]),
                     html=path, quiet=True)
    return ex, path


def _view(page):
    return [float(v) for v in page.get_attribute('#graph svg', 'viewBox').split()]


def test_mlp_gradient_page_steps_zooms_and_pans_without_errors(browser, mlp_page, tmp_path):
    ex, path = mlp_page
    n = len(ex.events)
    assert n > 100
    page = browser.new_page(viewport={'width': 1280, 'height': 800})
    errors = []
    page.on('console', lambda m: errors.append(m.text) if m.type == 'error' else None)
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.goto('file://' + path)
    assert page.text_content('#counter') == f'step 0 of {n}'
    # button labels are plain ASCII: no glyph a font may lack
    labels = page.eval_on_selector_all('button', 'bs => bs.map(b => b.textContent)')
    assert {'<< first', '< prev', 'next >', 'last >>', '+', '-', 'fit', '1:1'} <= set(labels)
    assert all(label.isascii() for label in labels)
    legend = page.text_content('#legend')
    for tag in ('primal', 'tangent', 'cotangent'):
        assert f'{tag}: {viz.ROLES[tag].meaning}' in legend
    assert 'one trace level' in legend and 'the current bind' in legend

    def at():   # (counter, index of the highlighted log line, highlighted graph node)
        return (page.text_content('#counter'),
                page.eval_on_selector_all('#log li', 'lis => lis.findIndex(li => '
                                          'li.classList.contains("current"))'),
                page.eval_on_selector_all('#graph g.current', 'gs => gs.map(g => g.id)'))

    for _ in range(3):
        page.click('#next')
    assert at() == (f'step 3 of {n}', 2, ['ev_2'])
    assert page.is_visible('#ev_2') and not page.is_visible('#ev_3')
    page.click('#prev')
    assert at() == (f'step 2 of {n}', 1, ['ev_1'])
    assert page.text_content('#detail').startswith(f'bind #1: {ex.events[1].prim}\n')
    page.keyboard.press('ArrowRight')
    assert at()[0] == f'step 3 of {n}'
    page.click('#last')
    assert at() == (f'step {n} of {n}', n - 1, [f'ev_{n - 1}'])
    page.keyboard.press('Home')
    assert at() == (f'step 0 of {n}', -1, [])

    # long lines wrap inside the log, none is cut
    widths = page.eval_on_selector_all('#log li', 'lis => lis.map(li => [li.scrollWidth, '
                                       'li.clientWidth])')
    assert all(scroll <= client for scroll, client in widths)
    assert max(len(e.line()) for e in ex.events) > 150   # so some lines did wrap

    # the nan in the log is explained where it is shown
    nan = next(i for i, e in enumerate(ex.events) if e.inputs == ['nan'])
    page.click(f'#log li >> nth={nan}')
    detail = page.text_content('#detail')
    assert 'from:    ' in detail and 'take_along_axis' in detail
    assert 'note:    nan is a value' in detail

    # zoom (buttons, wheel) and pan (drag) change the SVG's viewBox; fit shows it all
    whole = [float(v) for v in ex_svg_viewbox(path)]
    page.click('#fit')
    assert _view(page) == pytest.approx(whole)
    page.click('#zoom-in')
    x, y, w, h = _view(page)
    assert w == pytest.approx(whole[2] / 1.25) and h == pytest.approx(whole[3] / 1.25)
    box = page.locator('#graph svg').bounding_box()
    cx, cy = box['x'] + box['width'] / 2, box['y'] + box['height'] / 2
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -200)
    page.wait_for_function(f'document.querySelector("#graph svg").viewBox.baseVal.width < {w}')
    x, y, w, h = _view(page)
    page.mouse.down()
    page.mouse.move(cx + 100, cy + 60, steps=4)
    page.mouse.up()
    x2, y2, w2, h2 = _view(page)
    assert x2 < x and y2 < y and (w2, h2) == (w, h)
    page.keyboard.press('0')
    assert _view(page) == pytest.approx(whole)

    shot = tmp_path / 'explainer.png'
    page.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 20_000
    assert errors == []
    page.close()


def ex_svg_viewbox(path):
    """The viewBox Graphviz wrote: the whole graph."""
    import re
    text = open(path, encoding='utf-8').read()
    return re.search(r'<svg[^>]*viewBox="([^"]*)"', text).group(1).split()


def test_large_graph_starts_readable_and_follows_the_current_bind(browser, mlp_page):
    ex, path = mlp_page
    page = browser.new_page(viewport={'width': 1280, 'height': 800})
    page.goto('file://' + path)
    assert page.text_content('#scale') == '100%'     # 1:1, not a thumbnail of 180 nodes
    page.click('#last')                              # far from the top left corner
    pane = page.locator('#graph').bounding_box()
    box = page.locator(f'#ev_{len(ex.events) - 1}').bounding_box()
    assert pane['x'] <= box['x'] and box['x'] + box['width'] <= pane['x'] + pane['width']
    assert pane['y'] <= box['y'] and box['y'] + box['height'] <= pane['y'] + pane['height']
    page.close()


def test_each_bind_names_the_code_it_came_from_and_modules_by_type(mlp_page):
    ex, _ = mlp_page
    assert ex.title.startswith('loss_fun(SimpleNN, f32[16,8,8], i32[16])')
    first = ex.events[0]   # the first bind: the model's reshape, from SimpleNN.__call__
    assert first.source[-1].startswith('__call__ (test_explainer_page.py:')
    nan = next(e for e in ex.events if e.inputs == ['nan'])
    assert 'take_along_axis' in nan.source and 'softmax_cross_entropy_with_integer_labels' in \
        nan.source and nan.source[-1].startswith('loss_fun (test_explainer_page.py:')
    # a backward-pass bind comes from the code that called the gradient
    last = ex.events[-1]
    assert last.tag == 'cotangent'
    assert last.source[-1].startswith('mlp_page (test_explainer_page.py:')


def test_page_without_graphviz_steps_through_the_log(browser, tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))   # no `dot`: the graph is DOT text
    path = str(tmp_path / 'nodot.html')
    viz.explain(tt.grad(jnp.sin), 1.0, html=path, quiet=True)
    page = browser.new_page()
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.goto('file://' + path)
    assert not page.is_visible('#zoom') and 'digraph binds {' in page.text_content('#graph')
    page.keyboard.press('End')
    assert page.text_content('#counter') == 'step 7 of 7' and errors == []
    page.close()


# --- displayed once ---------------------------------------------------------------------------

def test_explanation_shows_its_log_as_html_and_repr_is_one_line(capsys):
    ex = viz.explain(tt.grad(jnp.sin), 1.0, quiet=True)
    assert capsys.readouterr().out == ''
    html = ex._repr_html_()
    assert html.count('<li ') == len(ex.events) == 7
    assert 'explain grad(sin)(1.0): 7 binds' in html and 'result: 0.5403023' in html
    cotangent = viz.ROLES['cotangent']
    assert cotangent.border in html and f'cotangent: {cotangent.meaning}' in html
    # a prompt echoing the value after the printed log adds one line, not the log again
    assert repr(ex) == '<Explanation of grad(sin)(1.0): 7 binds; print() it for the log>'


@pytest.fixture
def ipython(monkeypatch, tmp_path):
    """A real IPython shell (the kind a Jupyter kernel runs), removed afterwards."""
    pytest.importorskip('IPython', reason="IPython is not installed (notebook display)")
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    # A shell changes the interpreter (prompts, hooks, __main__): put it all back after.
    for name in ('ps1', 'ps2', 'displayhook', 'excepthook'):
        monkeypatch.setattr(sys, name, getattr(sys, name, None), raising=False)
        if getattr(sys, name) is None:
            monkeypatch.delattr(sys, name)
    monkeypatch.setitem(sys.modules, '__main__', sys.modules['__main__'])
    monkeypatch.setenv('IPYTHONDIR', str(tmp_path))
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    try:
        yield shell
    finally:
        InteractiveShell.clear_instance()
        monkeypatch.undo()
    assert explain_module.ipython_shell() is None   # a script again: explain prints


def test_explain_in_ipython_shows_the_log_once_per_cell(ipython, capsys):
    def cell(code):
        assert ipython.run_cell(code, store_history=True).success
        return capsys.readouterr().out.count('explain grad(sin)(1.0): 7 binds')

    ipython.run_cell('import viz, tinygrad_tracer as tt, tinygrad_tracer.numpy as jnp')
    assert cell('viz.explain(tt.grad(jnp.sin), 1.0)') == 1          # the cell's value: once
    assert cell('ex = viz.explain(tt.grad(jnp.sin), 1.0)') == 1     # assigned: still shown
    assert cell('ex') == 1                                          # asked for again: shown
    assert cell('ex = viz.explain(tt.grad(jnp.sin), 1.0, quiet=True)') == 0
    assert cell('viz.explain(tt.grad(jnp.sin), 1.0, quiet=False)') == 1   # printed, as text
    # what a notebook receives: the HTML log and the text
    ex = ipython.user_ns['ex']
    with pytest.MonkeyPatch.context() as m:
        bundles = []
        m.setattr(ipython.display_pub, 'publish', lambda data, **kw: bundles.append(data))
        ex.shown_in = None
        ex._ipython_display_()
    assert bundles == [{'text/html': ex._repr_html_(), 'text/plain': str(ex)}]
    # viz.graph's Digraph shows inline as SVG
    assert shutil.which('dot'), "Graphviz's dot is needed: apt-get install graphviz"
    formats, _ = ipython.display_formatter.format(viz.graph(jnp.sin, 1.0))
    assert 'image/svg+xml' in formats and '<svg' in formats['image/svg+xml']


def test_explain_in_a_jupyter_kernel_makes_one_output_per_cell():
    """The same in a real notebook: a python3 kernel of this interpreter runs the cells."""
    for module in ('nbformat', 'nbclient', 'ipykernel'):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install -e '.[dev]')")
    import nbformat
    from nbclient import NotebookClient
    cells = ['import viz, tinygrad_tracer as tt, tinygrad_tracer.numpy as jnp',
             'viz.explain(tt.grad(jnp.sin), 1.0)', 'ex = viz.explain(tt.grad(jnp.sin), 1.0)', 'ex']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    NotebookClient(nb, kernel_name='python3', timeout=120,
                   resources={'metadata': {'path': root}}).execute()
    outputs = [[(o.output_type, sorted(o.get('data', {}))) for o in c.outputs] for c in nb.cells]
    assert outputs == [[]] + 3 * [[('display_data', ['text/html', 'text/plain'])]]
