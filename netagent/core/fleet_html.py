"""The fleet report as one self-contained HTML page (pure).

No CDN, no framework, no external file: inline CSS and a 30-line script that sorts a table when
its header is clicked, so the page can be opened straight from a bucket. Every number has an id
or a `data-sort` value, which the Chromium test reads back from the rendered DOM. A hash like
`#sort=hosts:3:asc` sorts a table on load (table id, column, direction), a link people can share.
"""

from __future__ import annotations

import html

from netagent.core.fleet import FleetSummary, percent

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2329;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#5b6672;margin-bottom:16px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #d6dce1;border-radius:6px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:24px}.card.bad b{color:#b42318}.card.good b{color:#067647}
table{border-collapse:collapse;width:100%;max-width:1100px}
th,td{border-bottom:1px solid #e4e8eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7;cursor:pointer;user-select:none;white-space:nowrap}
th.asc::after{content:" \\25b2"}th.desc::after{content:" \\25bc"}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#fde3e1;height:10px;width:160px;border-radius:3px;overflow:hidden;display:inline-block}
.bar i{display:block;height:100%;background:#12b76a}
.empty{color:#5b6672;font-style:italic}
code{font-size:12px}td.id{white-space:nowrap}
"""

# Sorts by the cell's data-sort (numbers) or its text; wires every table.sortable, then marks the
# body with data-sortable=<tables wired> so a test can see the script ran.
_JS = """
(function(){
function key(td){var v=td.getAttribute('data-sort');return v===null?td.textContent.trim().toLowerCase():parseFloat(v);}
function sortBy(table,col,asc){
  var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);return (x<y?-1:x>y?1:0)*(asc?1:-1);});
  rows.forEach(function(r){body.appendChild(r);});
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    th.classList.remove('asc','desc');if(i===col){th.classList.add(asc?'asc':'desc');}});
}
var tables=document.querySelectorAll('table.sortable');
Array.prototype.forEach.call(tables,function(table){
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    th.addEventListener('click',function(){sortBy(table,i,!th.classList.contains('asc'));});});
});
var m=/^#sort=([\\w-]+):(\\d+):(asc|desc)$/.exec(location.hash);
if(m){var t=document.getElementById(m[1]);if(t&&t.classList.contains('sortable')){sortBy(t,+m[2],m[3]==='asc');}}
document.body.setAttribute('data-sortable',String(tables.length));
})();
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(n: int | None) -> str:
    if n is None:
        return '<td class="n" data-sort="-1">-</td>'
    return f'<td class="n" data-sort="{n}">{n}</td>'


def _table(table_id: str, headers: list[tuple[str, bool]], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty" id="{table_id}-empty">{_e(empty)}</p>'
    head = "".join(f'<th class="n">{_e(h)}</th>' if numeric else f"<th>{_e(h)}</th>" for h, numeric in headers)
    return (
        f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


def render_html(summary: FleetSummary, generated_at: str, sources: int) -> str:
    """Render the fleet summary as a self-contained HTML page."""
    n, ok = len(summary.hosts), summary.compliant
    cards = [
        ("hosts-total", "hosts", n, ""),
        ("hosts-compliant", "compliant", ok, "good"),
        ("hosts-noncompliant", "not compliant", n - ok, "bad" if n - ok else "good"),
        ("compliance-percent", "compliance", percent(ok, n), ""),
        ("files-skipped", "files skipped", len(summary.skipped), "bad" if summary.skipped else ""),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>netagent fleet report: {ok}/{n} compliant</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>netagent fleet report</h1>",
        f'<div class="meta">Generated {_e(generated_at)} from {sources} files; for each host the newest'
        " report wins (its <code>generated_at</code>, else the file's modification time).</div>",
        '<div class="cards">',
        *(f'<div class="card {cls}"><b id="{cid}">{_e(v)}</b>{_e(label)}</div>' for cid, label, v, cls in cards),
        "</div>",
        "<h2>Compliance by profile</h2>",
        _table(
            "profiles",
            [("profile", False), ("hosts", True), ("compliant", True), ("not compliant", True), ("compliance", True)],
            [
                f"<tr><td>{_e(p.profile)}</td>{_num(p.hosts)}{_num(p.compliant)}{_num(p.hosts - p.compliant)}"
                f'<td class="n" data-sort="{p.compliant / p.hosts if p.hosts else 0:.6f}">'
                f'<span class="bar"><i style="width:{100 * p.compliant / p.hosts if p.hosts else 0:.1f}%"></i></span> '
                f"{percent(p.compliant, p.hosts)}</td></tr>"
                for p in summary.profiles
            ],
            "no hosts",
        ),
        "<h2>Checks that drift most</h2>",
        _table(
            "checks",
            [("check", False), ("hosts", True), ("drift", True), ("error", True), ("required on", True)],
            [
                f"<tr><td><code>{_e(c.check)}</code></td>{_num(c.hosts)}{_num(c.drift)}{_num(c.error)}"
                f"{_num(c.required)}</tr>"
                for c in summary.checks
            ],
            "no check failed on any host",
        ),
        "<h2>Owners that fight the profile</h2>",
        _table(
            "fights",
            [("owner", False), ("kind", False), ("check", False), ("hosts", True), ("sets", False)],
            [
                f"<tr><td><code>{_e(f.source)}</code></td><td>{_e(f.kind)}</td><td><code>{_e(f.check)}</code></td>"
                f"{_num(f.hosts)}<td>{_e(', '.join(f.values))}</td></tr>"
                for f in summary.fights
            ],
            "no boot-time owner sets another value than the profile",
        ),
        "<h2>ENA allowance hot spots</h2>",
        _table(
            "ena-hosts",
            [("counter", False), ("hosts exceeding", True)],
            [f"<tr><td>{_e(name)}</td>{_num(hosts)}</tr>" for name, hosts in summary.counters],
            "no ENA counters",
        ),
        _table(
            "ena",
            [
                ("host", False),
                ("hostname", False),
                ("interface", False),
                ("total", True),
                ("counters", False),
                ("conntrack available", True),
            ],
            [
                f"<tr><td>{_e(s.host_id)}</td><td>{_e(s.hostname)}</td><td>{_e(s.ifname)}</td>{_num(s.total)}"
                f"<td>{_e(', '.join(f'{k} {v}' for k, v in s.exceeded))}</td>{_num(s.conntrack_available)}</tr>"
                for s in summary.hot_spots
            ],
            "no ENA interface went over an allowance",
        ),
        "<h2>Hosts by failures</h2>",
        _table(
            "hosts",
            [
                ("host", False),
                ("hostname", False),
                ("profile", False),
                ("failures", True),
                ("failing checks", False),
                ("report time", False),
            ],
            [
                f'<tr><td class="id">{_e(h.host_id)}</td><td class="id">{_e(h.hostname)}</td><td>{_e(h.profile)}</td>'
                f"{_num(h.failed)}<td><code>{_e(', '.join(f.check for f in h.failures))}</code></td>"
                f'<td class="id">{_e(h.generated_at[:19].replace("T", " ") or "file mtime")}</td></tr>'
                for h in summary.hosts
            ],
            "no hosts",
        ),
        "<h2>Skipped files</h2>",
        _table(
            "skipped",
            [("file", False), ("reason", False)],
            [f"<tr><td><code>{_e(s.source)}</code></td><td>{_e(s.reason)}</td></tr>" for s in summary.skipped],
            "none",
        ),
        f'<p class="meta" id="duplicates">{len(summary.duplicates)} older reports of the same hosts ignored.</p>',
        f"<script>{_JS}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
