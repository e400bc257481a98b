/** The console's one stylesheet, served as /static/console.css (the CSP allows styles from the console only, never inline). */
export const CONSOLE_CSS = `:root{--fg:#1a1a1a;--muted:#5c5c5c;--line:#d0d0d0;--deny:#b42318;--allow:#2e7d32;--accent:#1f4e9c;--focus:#f5a300}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:0;background:#fafafa}
header{display:flex;flex-wrap:wrap;align-items:center;gap:1em;background:#14213d;color:#fff;padding:.4em 1em}
header a{color:#fff}.brand{font-weight:bold;font-size:1.1em;text-decoration:none}
nav{display:flex;flex:1;align-items:center;gap:1em}nav ul{display:flex;gap:1em;list-style:none;margin:0;padding:0;flex:1}
nav a[aria-current]{font-weight:bold;text-decoration:underline}.who{display:flex;gap:.5em;align-items:center}.who form{display:inline}
.role{background:#fff;color:#14213d;border-radius:3px;padding:0 .4em;font-size:.8em}
main{padding:1em 1.5em;max-width:1400px}h1{font-size:1.4em;margin:.2em 0 .6em}h2{font-size:1.15em;margin:1.4em 0 .4em}
a{color:var(--accent)}:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-10000px}.skip:focus{left:1em;top:1em;background:#fff;color:#000;padding:.3em;z-index:9}
form.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(14em,1fr));gap:.5em 1em;align-items:end;background:#fff;border:1px solid var(--line);padding:.8em;border-radius:4px}
label{display:flex;flex-direction:column;font-size:.85em;color:var(--muted)}input,select,textarea,button{font:inherit;padding:.25em .4em;border:1px solid #999;border-radius:3px}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}button.secondary{background:#fff;color:var(--accent)}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}th,td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.denied,.failure,.rate_limited,.error{color:var(--deny);font-weight:bold}.allowed,.success{color:var(--allow)}
.notice{padding:.5em 1em;border-radius:4px}.notice.error{background:#fde7e7;border:1px solid var(--deny)}.notice.info{background:#eef4ff;border:1px solid var(--accent)}
.muted{color:var(--muted)}.chart{width:100%;max-width:1000px;height:auto;background:#fff;border:1px solid var(--line)}
.bar{width:100%;height:14px;display:block}.wf td.name{white-space:nowrap}.wf tr.target{outline:3px solid var(--focus)}
.evt{font-size:.85em;margin:.15em 0 0 1em}.evt.audit{color:var(--deny)}.evt.log{color:var(--muted)}
.kind{display:inline-block;min-width:4.5em;font-size:.75em;text-transform:uppercase;border-radius:3px;padding:0 .3em;background:#eee;color:#000}
.kind.audit{background:#fde7e7}.kind.span{background:#e6efff}.kind.log{background:#eee}
dl.attrs{display:grid;grid-template-columns:max-content 1fr;gap:0 1em;margin:.2em 0;font-size:12.5px}dl.attrs dt{font-weight:bold}dl.attrs dd{margin:0;word-break:break-all}
details{margin:.3em 0}summary{cursor:pointer}.pager{display:flex;gap:1em;margin:.6em 0}.login{max-width:22em;display:flex;flex-direction:column;gap:.8em}
.triage{display:flex;gap:.4em;align-items:end;flex-wrap:wrap}.triage textarea{min-width:16em}
@media print{header,nav,form{display:none}}`;
