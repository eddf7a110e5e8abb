"""The static site: page shell, chart embedding, local scripts, offline check.

Charts are Vega-Lite specs (from altair, or Splink's own chart objects) drawn by vega-embed
from the copies of vega, vega-lite and vega-embed that Splink's wheel carries, written once
to assets/ beside the pages: every page opens from the file system with no network.
Splink's dashboards (comparison viewer, cluster studio) inline the same scripts themselves;
only their web-font links reach out, and `offline` removes those.
"""

from __future__ import annotations

import html.parser
import importlib.resources
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

ASSETS = "assets"
LIBRARIES = ("vega", "vega-lite", "vega-embed")  # load order: each needs the one before
# the vega-embed menu keeps the offline exports (SVG, PNG) and drops what opens a web page
EMBED_OPTIONS = {"actions": {"export": True, "source": False, "compiled": False, "editor": False}}


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)  # Vega-Lite specs
    tables: list[Table] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (href, label, note)


@dataclass
class Page:
    filename: str
    title: str
    intro: list[str]
    sections: list[Section]


def _bundled_scripts() -> dict[str, Path]:
    """{library: file} from Splink's wheel (splink/internals/files/external_js/<lib>@<ver>)."""
    folder = importlib.resources.files("splink") / "internals" / "files" / "external_js"
    found: dict[str, Path] = {}
    for library in LIBRARIES:
        matches = [p for p in folder.iterdir() if p.name.startswith(f"{library}@")]
        if len(matches) != 1:
            raise RuntimeError(
                f"expected one {library}@<version> script in {folder}, found "
                f"{[p.name for p in matches]}: the installed splink does not carry it"
            )
        found[library] = Path(str(matches[0]))
    return found


def write_assets(out: Path) -> list[str]:
    """Copy the chart scripts and the style sheet into out/assets; their relative paths."""
    target = out / ASSETS
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for source in _bundled_scripts().values():
        name = f"{source.name}.js"
        (target / name).write_bytes(source.read_bytes())
        paths.append(f"{ASSETS}/{name}")
    (target / "report.css").write_text(STYLE)
    return paths


def json_for_script(value: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can close it (the page
    template inserts it unescaped)."""
    text = json.dumps(value, default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(
    page: Page, out: Path, scripts: list[str], nav: list[tuple[str, str]], mode: str
) -> Path:
    charts = [
        {"id": f"chart-{s}-{c}", "spec": json_for_script(spec)}
        for s, section in enumerate(page.sections)
        for c, spec in enumerate(section.charts)
    ]
    html = _TEMPLATE.render(
        page=page,
        scripts=scripts,
        nav=nav,
        mode=mode,
        charts=charts,
        embed_options=json_for_script(EMBED_OPTIONS),
    )
    path = out / page.filename
    path.write_text(offline(html), encoding="utf-8")
    return path


_FONT_LINK = re.compile(
    r"<link\b[^>]*https://fonts\.(?:googleapis|gstatic)\.com[^>]*>\s*", re.IGNORECASE
)


class _ExternalReferences(html.parser.HTMLParser):
    """Attributes that make a browser fetch on load (src of any element, href of <link>)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            fetched = name in {"src", "srcset", "poster", "data"} or (
                tag == "link" and name == "href"
            )
            if fetched and value and re.match(r"\s*(https?:)?//", value):
                self.found.append(f"<{tag} {name}={value}>")


def offline(html: str) -> str:
    """`html` without Splink's web-font links (the system font stands in), checked to load
    nothing from the network: a new external reference fails here, not in a reader's browser."""
    cleaned = _FONT_LINK.sub("", html)
    parser = _ExternalReferences()
    parser.feed(cleaned)
    if parser.found:
        raise RuntimeError(f"page would load from the network: {', '.join(parser.found[:5])}")
    return cleaned


STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 2rem 3rem; color: #222; max-width: 110rem; }
nav { padding: .8rem 0; border-bottom: 1px solid #ddd; margin-bottom: 1rem; }
nav a { margin-right: 1.2rem; }
.mode { display: inline-block; padding: .15rem .6rem; border-radius: .3rem; font-size: .85rem; }
.mode.masked { background: #e6f4ea; } .mode.unmasked { background: #fdecea; }
section { margin: 2rem 0; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top;
  white-space: pre; }
td:last-child { white-space: pre-line; min-width: 20rem; }
th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: .8rem 0 1.5rem; }
p.note { color: #555; font-size: .9rem; }
"""

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ page.title }} - customer_360 report</title>
<link rel="stylesheet" href="assets/report.css">
{% for script in scripts %}<script src="{{ script }}"></script>
{% endfor %}</head>
<body>
<nav>{% for href, label in nav %}<a href="{{ href }}">{{ label }}</a>{% endfor %}
<span class="mode {{ mode }}">{{ mode }}</span></nav>
<h1>{{ page.title }}</h1>
{% for paragraph in page.intro %}<p>{{ paragraph }}</p>
{% endfor %}
{% for section in page.sections %}{% set s = loop.index0 %}<section>
<h2>{{ section.title }}</h2>
{% for paragraph in section.text %}<p class="note">{{ paragraph }}</p>
{% endfor %}
{% if section.links %}<ul>
{%- for href, label, note in section.links %}
<li><a href="{{ href }}">{{ label }}</a>{% if note %}: {{ note }}{% endif %}</li>
{%- endfor %}
</ul>{% endif %}
{% for spec in section.charts %}<div class="chart" id="chart-{{ s }}-{{ loop.index0 }}"></div>
{% endfor %}
{% for table in section.tables %}<table>
{% if table.columns | select | list %}<thead><tr>
{%- for column in table.columns %}<th>{{ column }}</th>{% endfor -%}
</tr></thead>{% endif %}
<tbody>
{%- for row in table.rows %}
<tr>
{%- for value in row -%}
{%- if value is number %}<td class="num">{{ value }}</td>
{%- else %}<td>{{ "" if value is none else value }}</td>{% endif -%}
{%- endfor -%}
</tr>
{%- endfor %}
</tbody>
</table>
{% endfor %}
</section>
{% endfor %}
{% for chart in charts -%}
<script type="application/json" id="{{ chart.id }}-spec">{{ chart.spec | safe }}</script>
{% endfor %}
<script>
const embedOptions = {{ embed_options | safe }};
for (const spec of document.querySelectorAll('script[id$="-spec"]')) {
  const target = '#' + spec.id.slice(0, -'-spec'.length);
  vegaEmbed(target, JSON.parse(spec.textContent), embedOptions).catch(console.error);
}
</script>
</body>
</html>
"""
)
