"""The explainer's HTML: the stepping page and the notebook display.

The page has the log on the left, the growing graph of binds on the right (zoom with
the buttons, the mouse wheel or + and -; drag to pan), a legend, and buttons (or the
arrow keys) that step through the binds. One file: CSS, JS and the SVG are inline,
nothing is fetched, no server is needed. Labels are plain ASCII, so they render in
any font.
"""
import html
import json
import os
import re

from . import legend
from .render import GraphvizNotInstalled, INSTALL_HINT, svg_text

# The bind graph's own marks (viz.explain's graph draws with these, the legend names them).
LEVEL_FRAME = '#9ca3af'   # the frame around the binds of one trace level
RULE_EDGE = '#9ca3af'     # dashed: a bind to the binds its rule made one level down
CURRENT = '#e11d48'       # the outline of the bind the page is at

_CSS = """
html, body { height: 100%; margin: 0; }
body { font-family: Helvetica, Arial, sans-serif; color: #111827; display: flex;
       flex-direction: column; }
header { padding: 6px 14px; background: #f3f4f6; border-bottom: 1px solid #d1d5db;
         display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; flex: none; }
header h1 { font-size: 15px; margin: 0 12px 0 0; font-family: monospace;
            overflow-wrap: anywhere; }
button { font-size: 13px; padding: 3px 10px; font-family: Helvetica, Arial, sans-serif; }
#counter { font-variant-numeric: tabular-nums; min-width: 8em; }
#result { font-family: monospace; font-size: 12px; overflow-wrap: anywhere; }
#legend { flex: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 4px 14px;
          font-size: 12px; border-bottom: 1px solid #d1d5db; align-items: center; }
#legend .key { display: inline-flex; align-items: center; gap: 5px; }
.arrow { display: inline-block; position: relative; width: 22px; margin-right: 8px;
         border-top: 2px solid; vertical-align: middle; }
.arrow::after { content: ''; position: absolute; right: -8px; top: -6px;
                border-left: 8px solid currentColor; border-top: 5px solid transparent;
                border-bottom: 5px solid transparent; }
main { flex: 1; min-height: 0; display: grid; grid-template-columns: minmax(300px, 42%) 1fr;
       grid-template-rows: minmax(0, 1fr); }
#log { margin: 0; padding: 6px 0; list-style: none; font-family: monospace; font-size: 12px;
       overflow-y: auto; overflow-x: hidden; border-right: 1px solid #d1d5db; min-height: 0; }
#log li { white-space: pre-wrap; overflow-wrap: anywhere; cursor: pointer; color: #6b7280;
          padding-top: 1px; padding-bottom: 1px; padding-right: 8px; text-indent: -2ch; }
#log li.done { color: #111827; }
#log li.current { background: #fde68a; }
#graph { position: relative; overflow: hidden; min-height: 0; background: #fff; }
#graph svg { width: 100%; height: 100%; display: block; cursor: grab; touch-action: none; }
#graph svg.dragging { cursor: grabbing; }
#graph .current polygon, #graph .current path { stroke: CURRENT; stroke-width: 3px; }
#zoom { position: absolute; top: 6px; right: 6px; display: flex; gap: 4px; align-items: center;
        background: rgba(243, 244, 246, 0.92); padding: 3px 6px; border-radius: 4px;
        font-size: 12px; }
#zoom button { padding: 1px 8px; min-width: 2.2em; }
#detail { font-family: monospace; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere;
          margin: 0; padding: 6px 14px; border-top: 1px solid #d1d5db; background: #fafafa;
          flex: none; height: 9.5em; overflow-y: auto; }
""".replace('CURRENT', CURRENT)

_JS = """
const steps = JSON.parse(document.getElementById('steps').textContent);
const items = Array.from(document.querySelectorAll('#log li'));
const pane = document.getElementById('graph');
const svg = pane.querySelector('svg');
const parts = svg ? Array.from(svg.querySelectorAll('g[id^="ev_"], g[id^="ed_"]')) : [];
const follow = document.getElementById('follow');
let current = -1;

// The view of the graph is the SVG's viewBox: zooming shrinks or grows it around a
// point, panning moves it. Graphviz sizes its SVG in points (4/3 px), so "1:1" shows
// the graph at the size Graphviz drew it.
const full = svg ? svg.viewBox.baseVal : null;
const whole = full ? {x: full.x, y: full.y, w: full.width, h: full.height} : null;
let view = whole ? Object.assign({}, whole) : null;
if (svg) { svg.removeAttribute('width'); svg.removeAttribute('height'); }

function setView(v) {
  view = v;
  svg.setAttribute('viewBox', [v.x, v.y, v.w, v.h].join(' '));
  document.getElementById('scale').textContent = Math.round(100 * pixelsPerUnit() / (4 / 3)) + '%';
}
function pixelsPerUnit() {
  return Math.min(pane.clientWidth / view.w, pane.clientHeight / view.h);
}
function toGraph(clientX, clientY) {   // a point on the screen, in the SVG's units
  const p = svg.createSVGPoint();
  p.x = clientX; p.y = clientY;
  return p.matrixTransform(svg.getScreenCTM().inverse());
}
function zoom(factor, at) {   // factor > 1 zooms in; `at` stays where it is on screen
  const fitScale = Math.min(pane.clientWidth / whole.w, pane.clientHeight / whole.h);
  const scale = Math.max(fitScale / 2, Math.min(8, pixelsPerUnit() * factor));
  factor = scale / pixelsPerUnit();
  at = at || {x: view.x + view.w / 2, y: view.y + view.h / 2};
  setView({x: at.x - (at.x - view.x) / factor, y: at.y - (at.y - view.y) / factor,
           w: view.w / factor, h: view.h / factor});
}
function actualSize() {   // 1:1 from the top left corner of the graph
  const unit = 4 / 3;
  setView({x: whole.x, y: whole.y, w: pane.clientWidth / unit, h: pane.clientHeight / unit});
}
function boxOf(el) {   // an element's box in the SVG's units
  const r = el.getBoundingClientRect();
  const a = toGraph(r.left, r.top), b = toGraph(r.right, r.bottom);
  return {x: a.x, y: a.y, w: b.x - a.x, h: b.y - a.y};
}
function reveal(el) {   // pan (same zoom) so that el is in view, if it is not
  const b = boxOf(el);
  const inside = b.x >= view.x && b.y >= view.y && b.x + b.w <= view.x + view.w &&
                 b.y + b.h <= view.y + view.h;
  if (!inside) {
    setView({x: b.x + b.w / 2 - view.w / 2, y: b.y + b.h / 2 - view.h / 2, w: view.w, h: view.h});
  }
}

function show(k) {
  current = Math.max(-1, Math.min(steps.length - 1, k));
  for (const el of parts) {
    const step = parseInt(el.id.split('_')[1], 10);
    el.style.visibility = step <= current ? 'visible' : 'hidden';
    el.classList.toggle('current', step === current && el.id.startsWith('ev_'));
  }
  items.forEach((li, i) => {
    li.classList.toggle('done', i <= current);
    li.classList.toggle('current', i === current);
  });
  document.getElementById('counter').textContent = 'step ' + (current + 1) + ' of ' + steps.length;
  document.getElementById('detail').textContent =
    current < 0 ? 'Press "next" (or the right arrow key) to take the first bind.' : steps[current];
  if (current >= 0) {
    items[current].scrollIntoView({block: 'nearest'});
    const node = svg && document.getElementById('ev_' + current);
    if (node && follow.checked) { reveal(node); }
  }
}

document.getElementById('first').onclick = () => show(-1);
document.getElementById('prev').onclick = () => show(current - 1);
document.getElementById('next').onclick = () => show(current + 1);
document.getElementById('last').onclick = () => show(steps.length - 1);
items.forEach((li, i) => { li.onclick = () => show(i); });
document.addEventListener('keydown', (e) => {
  const keys = {ArrowRight: () => show(current + 1), ArrowLeft: () => show(current - 1),
                Home: () => show(-1), End: () => show(steps.length - 1)};
  if (svg) {
    Object.assign(keys, {'+': () => zoom(1.25), '=': () => zoom(1.25), '-': () => zoom(0.8),
                         '0': () => setView(Object.assign({}, whole))});
  }
  if (keys[e.key] && !e.ctrlKey && !e.metaKey) { e.preventDefault(); keys[e.key](); }
});

if (svg) {
  document.getElementById('zoom-in').onclick = () => zoom(1.25);
  document.getElementById('zoom-out').onclick = () => zoom(0.8);
  document.getElementById('fit').onclick = () => setView(Object.assign({}, whole));
  document.getElementById('actual').onclick = actualSize;
  svg.addEventListener('wheel', (e) => {
    e.preventDefault();
    zoom(Math.exp(-e.deltaY * 0.002), toGraph(e.clientX, e.clientY));
  }, {passive: false});
  let drag = null;
  svg.addEventListener('pointerdown', (e) => {
    drag = {x: e.clientX, y: e.clientY, view: Object.assign({}, view)};
    svg.setPointerCapture(e.pointerId);
    svg.classList.add('dragging');
  });
  svg.addEventListener('pointermove', (e) => {
    if (!drag) { return; }
    const unit = pixelsPerUnit();
    setView({x: drag.view.x - (e.clientX - drag.x) / unit,
             y: drag.view.y - (e.clientY - drag.y) / unit, w: view.w, h: view.h});
  });
  const drop = () => { drag = null; svg.classList.remove('dragging'); };
  svg.addEventListener('pointerup', drop);
  svg.addEventListener('pointercancel', drop);
  window.addEventListener('resize', () => setView(view));   // the scale shown changes
  // A small graph starts whole; a large one (a thumbnail when whole) starts at 1:1.
  const fitScale = Math.min(pane.clientWidth / whole.w, pane.clientHeight / whole.h);
  if (fitScale < 0.75 * 4 / 3) { actualSize(); } else { setView(Object.assign({}, whole)); }
} else {
  document.getElementById('zoom').style.display = 'none';   // no SVG: nothing to zoom
}
show(-1);
"""

# Shown under the detail of a bind with nan among its values.
_NAN_NOTE = ("note:    nan is a value the program really computed or passed, not a missing one: "
             "e.g. jnp.take_along_axis (as in JAX) fills the places of out-of-bounds indices "
             "with nan, then picks the gathered values where the index was in bounds. 'from' "
             "names the code that made this bind.")


def _detail(e, events):
    parent = events[e.parent] if e.parent is not None else None
    lines = [f"bind #{e.index}: {e.prim}",
             f"trace:   {e.where()}",
             f"tag:     {e.tag} ({legend.role_style(e.tag).meaning})",
             f"inputs:  {', '.join(e.inputs) or '-'}",
             f"outputs: {'raised' if e.outputs is None else ', '.join(e.outputs)}",
             f"made by: #{parent.index} {parent.prim} at {parent.where()}" if parent
             else "made by: the function itself",
             f"from:    {' < '.join(e.source) or '-'}"]
    if any(re.search(r'\bnan\b', v) for v in [*e.inputs, *(e.outputs or ())]):
        lines.append(_NAN_NOTE)
    return '\n'.join(lines)


def _inline_svg(dot):
    """The graph as inline SVG (XML prolog and DOCTYPE dropped), or its DOT text and
    the install hint when Graphviz is missing."""
    try:
        svg = svg_text(dot)
    except GraphvizNotInstalled:
        return (f"<p>Graphviz's <code>dot</code> was not found, so the graph is shown as DOT "
                f"text. {html.escape(INSTALL_HINT)}</p><pre>{html.escape(dot.source)}</pre>")
    return svg[svg.index('<svg'):]


def log_items(events, extra_style=''):
    """The log as <li> items: the tag's colour as a left bar, nesting as indentation
    (a wrapped line continues further in, so a long line is wrapped, never cut)."""
    return ''.join(
        f'<li style="border-left: 5px solid {legend.role_style(e.tag).border}; '
        f'padding-left: {2 * e.depth + 3}ch; {extra_style}">'
        f'{html.escape(e.text())}</li>' for e in events)


def _swatch(fill, border):
    return (f'<span style="display: inline-block; width: 22px; height: 13px; border-radius: 3px; '
            f'box-sizing: border-box; border: 2px solid {border}; background: {fill}; '
            f'vertical-align: middle"></span>')


def _tag_keys(tags):
    """A key per tag in use, in the legend's order: its colours, name and meaning."""
    return [f'<span class="key" style="white-space: nowrap">'
            f'{_swatch(legend.role_style(t).fill, legend.role_style(t).border)} '
            f'{html.escape(t)}: {html.escape(legend.role_style(t).meaning)}</span>'
            for t in legend.ROLES if t in tags]


def _arrow(color, dashed):
    return (f'<span class="arrow" style="color: {color}; '
            f'border-top-style: {"dashed" if dashed else "solid"}"></span>')


def legend_html(tags):
    """The page's legend: a colour per tag in use (from viz/legend.py), then the marks
    of the bind graph."""
    marks = [(_swatch('#fff', '#374151'), "box: one bind, numbered in order"),
             (_swatch('#fff', LEVEL_FRAME), "frame: one trace level"),
             (_arrow('#111827', False), "a result feeds a later bind"),
             (_arrow(RULE_EDGE, True), "a rule's bind one level down"),
             (_swatch('#fff', CURRENT), "the current bind")]
    keys = _tag_keys(tags) + [f'<span class="key">{mark} {html.escape(text)}</span>'
                              for mark, text in marks]
    return f'<div id="legend"><b>legend</b>{"".join(keys)}</div>'


def write_page(path, title, events, dot, result):
    """Write the stepping page of an explained call to `path` (making its folder)."""
    steps = json.dumps([_detail(e, events) for e in events]).replace('</', '<\\/')
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>viz.explain: {html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<button id="first" title="before the first bind (Home)">&lt;&lt; first</button>
<button id="prev" title="previous bind (left arrow)">&lt; prev</button>
<button id="next" title="next bind (right arrow)">next &gt;</button>
<button id="last" title="the last bind (End)">last &gt;&gt;</button>
<span id="counter"></span>
<span id="result">result: {html.escape(result)}</span>
</header>
{legend_html({e.tag for e in events})}
<main>
<ol id="log">{log_items(events)}</ol>
<div id="graph">
<div id="zoom"><button id="zoom-out" title="zoom out (-)">-</button><span id="scale"></span>
<button id="zoom-in" title="zoom in (+)">+</button>
<button id="fit" title="the whole graph (0)">fit</button>
<button id="actual" title="the size Graphviz drew it">1:1</button>
<label title="keep the current bind in view">
<input type="checkbox" id="follow" checked> follow</label></div>
{_inline_svg(dot)}
</div>
</main>
<pre id="detail"></pre>
<script type="application/json" id="steps">{steps}</script>
<script>{_JS}</script>
</body>
</html>
"""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(page)


def notebook_html(heading, events, result):
    """The log for a notebook cell: the same coloured, wrapped lines as the page
    (inline styles only: a notebook's other cells keep their look)."""
    mono = 'font-family: monospace; font-size: 12px;'
    wrap = 'white-space: pre-wrap; overflow-wrap: anywhere; text-indent: -2ch'
    keys = '&nbsp;&nbsp; '.join(_tag_keys({e.tag for e in events}))
    return (f'<div style="{mono}"><div style="font-weight: bold">{html.escape(heading)}</div>'
            f'<div style="font-family: Helvetica, Arial, sans-serif; margin: 3px 0">{keys}</div>'
            f'<ol style="list-style: none; margin: 4px 0; padding: 0">'
            f'{log_items(events, wrap)}'
            f'</ol><div>result: {html.escape(result)}</div></div>')
