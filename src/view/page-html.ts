/** The view's page and its style: shipped in the package, so the view needs nothing from the internet. */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>subagents — live view</title>
<link rel="stylesheet" href="/assets/view.css">
<script src="/assets/view.js" defer></script>
</head>
<body>
<header>
  <h1>subagents</h1>
  <span id="mode" class="badge">connecting…</span>
  <dl id="totals"></dl>
</header>
<section id="approvals" hidden>
  <h2>Pending approvals</h2>
  <ul id="approval-list"></ul>
</section>
<main>
  <section id="tree-panel">
    <table id="tree">
      <thead><tr>
        <th>handle</th><th>status</th><th>role</th><th>agent type</th><th>model</th><th>tool</th>
        <th class="num">tokens</th><th class="num">cost</th><th class="num">time</th><th class="num">queue</th><th>budget</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <p id="empty" class="dim">No handles yet.</p>
  </section>
  <section id="detail" hidden>
    <h2 id="detail-title"></h2>
    <p id="detail-goal" class="dim"></p>
    <div id="controls">
      <button type="button" data-action="interrupt">Interrupt</button>
      <button type="button" data-action="cancel">Cancel</button>
      <button type="button" data-action="close">Close</button>
      <button type="button" data-action="resume">Resume</button>
      <form id="send-form">
        <input id="send-message" name="message" placeholder="Send an input…" autocomplete="off">
        <label><input id="send-interrupt" type="checkbox"> interrupt</label>
        <button type="submit">Send</button>
      </form>
    </div>
    <p id="control-result" role="status"></p>
    <h3>Statechart</h3>
    <div id="chart"></div>
    <h3>Queued inputs</h3>
    <ol id="queue"></ol>
    <h3>Runs</h3>
    <table id="runs"><thead><tr><th>run</th><th>outcome</th><th class="num">time</th><th class="num">tokens</th><th>input</th><th>error</th></tr></thead><tbody></tbody></table>
    <h3>Event log</h3>
    <ol id="log"></ol>
  </section>
</main>
<footer id="connection" class="dim">connecting…</footer>
</body>
</html>
`;

export const PAGE_STYLE = `
:root { color-scheme: light dark; --bg: #fbfbfa; --fg: #1d1f21; --dim: #6b7075; --line: #d9dcdf; --accent: #2f6fd6;
  --run: #0b7fab; --ok: #1f8a3b; --bad: #c0392b; --warn: #b7791f; --sel: #e8f0fc; --active: #fff4c2; }
@media (prefers-color-scheme: dark) { :root { --bg: #16181b; --fg: #e4e6e8; --dim: #959ba1; --line: #33373c; --sel: #1f2d44; --active: #4a3f12; } }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 16px; padding: 10px 16px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
h1 { font-size: 16px; margin: 0; }
h2 { font-size: 14px; margin: 0 0 6px; }
h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--dim); margin: 14px 0 4px; }
.badge { border: 1px solid var(--line); border-radius: 10px; padding: 1px 8px; font-size: 12px; }
dl#totals { display: flex; gap: 14px; margin: 0; flex-wrap: wrap; }
dl#totals div { display: flex; gap: 4px; }
dt { color: var(--dim); }
dd { margin: 0; font-variant-numeric: tabular-nums; }
main { display: flex; gap: 16px; padding: 12px 16px; align-items: flex-start; }
#tree-panel { flex: 1 1 auto; overflow-x: auto; }
#detail { flex: 0 1 560px; min-width: 340px; border-left: 1px solid var(--line); padding-left: 16px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-weight: 600; color: var(--dim); font-size: 12px; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
#tree tbody tr { cursor: pointer; }
#tree tbody tr:hover { background: var(--sel); }
#tree tbody tr.selected { background: var(--sel); outline: 1px solid var(--accent); }
.indent { display: inline-block; }
.status { font-weight: 600; }
.status-running { color: var(--run); }
.status-completed { color: var(--ok); }
.status-error { color: var(--bad); }
.status-interrupted, .status-cancelled { color: var(--warn); }
.status-idle, .status-closed { color: var(--dim); }
.dim { color: var(--dim); }
#approvals { margin: 10px 16px 0; padding: 8px 12px; border: 1px solid var(--warn); border-radius: 6px; }
#approvals ul { margin: 0; padding-left: 18px; }
#approvals li { margin: 4px 0; }
#approvals pre { margin: 2px 0; max-height: 120px; overflow: auto; font-size: 12px; }
button { font: inherit; padding: 2px 10px; border: 1px solid var(--line); border-radius: 4px; background: transparent; color: var(--fg); cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .45; cursor: default; }
#controls { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
#send-form { display: flex; gap: 6px; align-items: center; }
#send-form input[name=message] { font: inherit; padding: 2px 6px; width: 200px; background: transparent; color: var(--fg); border: 1px solid var(--line); border-radius: 4px; }
#control-result { min-height: 1.4em; margin: 6px 0 0; }
#control-result.failed { color: var(--bad); }
.state { border: 1px solid var(--line); border-radius: 8px; padding: 4px 8px 6px; margin: 4px; min-width: 120px; background: var(--bg); }
.state.active { border-color: var(--accent); background: var(--active); }
.state.active > .state-name { font-weight: 700; }
.state-name { font-family: ui-monospace, monospace; font-size: 12px; }
.state-name .initial { color: var(--dim); font-weight: 400; }
.state ul { list-style: none; margin: 2px 0 0; padding: 0; font-size: 11px; color: var(--dim); }
.state-children { display: flex; flex-wrap: wrap; align-items: flex-start; }
#chart > .state { margin: 0; }
#queue, #log { margin: 0; padding-left: 22px; }
#log { max-height: 260px; overflow: auto; font-family: ui-monospace, monospace; font-size: 11px; }
footer { padding: 6px 16px; border-top: 1px solid var(--line); font-size: 12px; }
`;
