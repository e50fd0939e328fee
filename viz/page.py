"""The explainer's HTML page: the log on the left, the growing graph of binds on the
right, previous/next buttons (or the arrow keys). One file: CSS, JS and the SVG
are inline, nothing is fetched, no server is needed."""
import html
import json

from . import legend
from .render import GraphvizNotInstalled, INSTALL_HINT, svg_text

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #111827; }
header { padding: 8px 14px; background: #f3f4f6; border-bottom: 1px solid #d1d5db;
         display: flex; gap: 12px; align-items: center; position: sticky; top: 0; }
header h1 { font-size: 15px; margin: 0 12px 0 0; font-family: monospace; }
button { font-size: 14px; padding: 3px 12px; }
main { display: grid; grid-template-columns: minmax(320px, 45%) 1fr; gap: 0; }
#log { margin: 0; padding: 8px 0; list-style: none; font-family: monospace; font-size: 12px;
       overflow: auto; max-height: calc(100vh - 130px); border-right: 1px solid #d1d5db; }
#log li { white-space: pre; padding: 1px 10px; cursor: pointer; color: #9ca3af;
          border-left: 5px solid transparent; }
#log li.done { color: #111827; }
#log li.current { background: #fde68a; }
#graph { overflow: auto; max-height: calc(100vh - 130px); padding: 8px; }
#graph svg { max-width: 100%; height: auto; }
#graph .current polygon, #graph .current path { stroke: #e11d48; stroke-width: 3px; }
#detail { font-family: monospace; font-size: 12px; white-space: pre-wrap; margin: 0;
          padding: 8px 14px; border-top: 1px solid #d1d5db; background: #fafafa; min-height: 5em; }
"""

_JS = """
const steps = JSON.parse(document.getElementById('steps').textContent);
const items = Array.from(document.querySelectorAll('#log li'));
const parts = Array.from(document.querySelectorAll('#graph g[id^="ev_"], #graph g[id^="ed_"]'));
let current = -1;
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
  if (current >= 0) { items[current].scrollIntoView({block: 'nearest'}); }
  document.getElementById('counter').textContent = 'step ' + (current + 1) + ' of ' + steps.length;
  document.getElementById('detail').textContent =
    current < 0 ? 'Press next (or the right arrow key) to take the first bind.' : steps[current];
}
document.getElementById('prev').onclick = () => show(current - 1);
document.getElementById('next').onclick = () => show(current + 1);
document.getElementById('first').onclick = () => show(-1);
document.getElementById('last').onclick = () => show(steps.length - 1);
items.forEach((li, i) => { li.onclick = () => show(i); });
document.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowRight') { show(current + 1); }
  if (e.key === 'ArrowLeft') { show(current - 1); }
});
show(-1);
"""


def _detail(e, events):
    parent = events[e.parent] if e.parent is not None else None
    lines = [f"bind #{e.index}: {e.prim}",
             f"trace:   {e.where()}",
             f"tag:     {e.tag} ({legend.role_style(e.tag).meaning})",
             f"inputs:  {', '.join(e.inputs) or '-'}",
             f"outputs: {'raised' if e.outputs is None else ', '.join(e.outputs)}",
             f"made by: #{parent.index} {parent.prim} at {parent.where()}" if parent
             else "made by: the function itself"]
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


def write_page(path, title, events, dot, result):
    steps = json.dumps([_detail(e, events) for e in events]).replace('</', '<\\/')
    log = ''.join(
        f'<li style="border-left-color: {legend.role_style(e.tag).border}">'
        f'{html.escape(e.line())}</li>' for e in events)
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
<button id="first" title="before the first bind">&#x23EE;</button>
<button id="prev" title="previous bind (left arrow)">&#x25C0; previous</button>
<button id="next" title="next bind (right arrow)">next &#x25B6;</button>
<button id="last" title="the last bind">&#x23ED;</button>
<span id="counter"></span>
<span>result: <code>{html.escape(result)}</code></span>
</header>
<main>
<ol id="log">{log}</ol>
<div id="graph">{_inline_svg(dot)}</div>
</main>
<pre id="detail"></pre>
<script type="application/json" id="steps">{steps}</script>
<script>{_JS}</script>
</body>
</html>
"""
    with open(path, 'w', encoding='utf-8') as f:
        f.write(page)
