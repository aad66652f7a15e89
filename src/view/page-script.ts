/**
 * The view's script, run in the browser: follows the server's live updates
 * (server-sent events), draws the tree, the selected handle's statechart,
 * queue, runs and log, and posts the controls with the page's token.
 * Plain ES2020, no library; kept as text so the package ships it as is.
 */

export const PAGE_SCRIPT = String.raw`'use strict';
(function () {
  var token = new URLSearchParams(location.search).get('token') || '';
  var state = null;
  var chart = null;
  var selected = null;
  var detailTimer = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (key) {
      if (key === 'text') node.textContent = attrs[key];
      else if (key === 'className') node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function count(n) { return Number(n).toLocaleString('en-US'); }
  function money(n) { return n === null || n === undefined ? '' : '$' + (n < 0.01 && n > 0 ? n.toFixed(4) : n.toFixed(2)); }
  function duration(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '';
    if (ms < 10000) return (ms / 1000).toFixed(1) + 's';
    var s = Math.round(ms / 1000);
    if (s < 60) return s + 's';
    return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
  }
  function tokensOf(usage) { return usage ? usage.inputTokens + usage.outputTokens : 0; }
  function api(path) { return path + (path.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(token); }

  // A budget (tokens, dollars, deadline): what is committed of each limit, and the time left.
  function budgetText(budget) {
    if (budget === null || budget === undefined || typeof budget !== 'object') return '';
    var parts = [];
    var held = budget.held || { tokens: 0, costUsd: 0 };
    var spent = budget.spent || { tokens: 0, costUsd: 0 };
    if (typeof budget.tokens === 'number') parts.push('tok ' + count(spent.tokens + held.tokens) + '/' + count(budget.tokens));
    if (typeof budget.costUsd === 'number') parts.push(money((spent.costUsd || 0) + held.costUsd) + '/' + money(budget.costUsd));
    if (typeof budget.deadline === 'string') {
      var left = Date.parse(budget.deadline) - Date.now();
      parts.push(left > 0 ? Math.ceil(left / 1000) + ' s left' : 'past deadline');
    }
    return parts.join(' · ');
  }
  function shortNumber(value) { return typeof value === 'number' ? (Number.isInteger(value) ? count(value) : value.toFixed(2)) : String(value); }

  // A goal's words up to its first colon, or its first 40 characters.
  function goalLabel(goal) {
    var head = goal.split(':')[0].trim();
    var text = head.length > 0 && head.length <= 40 ? head : goal.trim();
    return text.length > 40 ? text.slice(0, 39) + '…' : text;
  }

  function elapsedOf(handle) {
    if (handle.snapshot.status === 'running' && handle.lastRunStartedAt) return Date.now() - Date.parse(handle.lastRunStartedAt);
    return handle.lastRunMs;
  }

  function renderTotals() {
    var totals = state.totals;
    var box = $('totals');
    box.textContent = '';
    function item(name, value) { box.appendChild(el('div', null, [el('dt', { text: name }), el('dd', { text: value })])); }
    item('handles', count(totals.handles));
    item('running', count(totals.running));
    // Runs in flight have spent tokens the totals count only once they end.
    var inFlight = state.handles.reduce(function (sum, h) { return sum + (h.snapshot.progress ? tokensOf(h.snapshot.progress.usage) : 0); }, 0);
    item('tokens', count(tokensOf(totals.usage) + inFlight));
    if (totals.cost !== null) item('cost', money(totals.cost));
    if (totals.budget) item('budget', budgetText(totals.budget));
    $('mode').textContent = state.mode === 'live' ? 'live runtime' : 'store (read only): ' + state.source;
  }

  function ordered() {
    var byParent = {};
    state.handles.forEach(function (h) { var p = h.snapshot.parentId || ''; (byParent[p] = byParent[p] || []).push(h); });
    var ids = {};
    state.handles.forEach(function (h) { ids[h.snapshot.id] = true; });
    var rows = [];
    function visit(parent) { (byParent[parent] || []).forEach(function (h) { rows.push(h); visit(h.snapshot.id); }); }
    visit('');
    // Handles whose parent is not shown (forgotten) still appear, at the end.
    state.handles.forEach(function (h) { if (h.snapshot.parentId && !ids[h.snapshot.parentId]) rows.push(h); });
    return rows;
  }

  function renderTree() {
    var body = document.querySelector('#tree tbody');
    body.textContent = '';
    var rows = ordered();
    $('empty').hidden = rows.length > 0;
    rows.forEach(function (h) {
      var s = h.snapshot;
      var status = s.status + (s.waitingForSlot ? ' (slot)' : '') + (s.awaitingApproval ? ' (approval)' : '');
      var tool = s.progress && s.progress.currentTool ? s.progress.currentTool.name : '';
      var name = el('td', null, [el('span', { className: 'indent', style: 'width:' + ((s.depth - 1) * 16) + 'px' }), el('span', { text: s.id }), s.goal ? el('span', { className: 'dim', text: ' ' + goalLabel(s.goal) }) : null]);
      var row = el('tr', { 'data-id': s.id, 'data-status': s.status }, [
        name,
        el('td', { className: 'status status-' + s.status, text: status }),
        el('td', { text: s.role }),
        el('td', { text: s.agentType }),
        el('td', { text: s.model || '' }),
        el('td', { text: tool }),
        el('td', { className: 'num', text: count(tokensOf(s.usage) + (s.progress ? tokensOf(s.progress.usage) : 0)) }),
        el('td', { className: 'num', text: money(h.cost) }),
        el('td', { className: 'num', text: duration(elapsedOf(h)) }),
        el('td', { className: 'num', text: s.queueSize ? count(s.queueSize) : '' }),
        el('td', { className: 'budget', text: budgetText(s.budget) })
      ]);
      if (s.id === selected) row.className = 'selected';
      row.title = s.goal || '';
      row.addEventListener('click', function () { select(s.id); });
      body.appendChild(row);
    });
  }

  function renderApprovals() {
    var list = $('approval-list');
    list.textContent = '';
    $('approvals').hidden = state.approvals.length === 0;
    state.approvals.forEach(function (a) {
      var approve = el('button', { type: 'button', 'data-approve': a.requestId, text: 'Approve' });
      var deny = el('button', { type: 'button', 'data-deny': a.requestId, text: 'Deny' });
      approve.addEventListener('click', function () { control('/api/approvals/' + encodeURIComponent(a.requestId), { approve: true }); });
      deny.addEventListener('click', function () { control('/api/approvals/' + encodeURIComponent(a.requestId), { approve: false, reason: 'denied in the view' }); });
      list.appendChild(el('li', { 'data-request': a.requestId }, [
        el('strong', { text: a.tool }), el('span', { text: ' asked by ' + (a.handleId || 'the root agent') + ' ' }), approve, el('span', { text: ' ' }), deny,
        el('pre', { text: JSON.stringify(a.arguments, null, 2) })
      ]));
    });
  }

  function drawState(node, active, isInitial) {
    var key = node.id.split('.').pop();
    var name = el('div', { className: 'state-name' }, [el('span', { text: node.id === chart.id ? 'handle' : key }), isInitial ? el('span', { className: 'initial', text: ' (initial)' }) : null]);
    var transitions = el('ul', null, node.transitions.map(function (t) {
      var targets = t.targets.length ? t.targets.map(function (id) { return id.split('.').slice(1).join('.'); }).join(', ') : '(stays)';
      return el('li', { text: t.event + ' → ' + targets + (t.guard ? ' [' + t.guard + ']' : '') + (t.reenter ? ' (re-enter)' : '') });
    }));
    var children = el('div', { className: 'state-children' }, node.children.map(function (child) { return drawState(child, active, node.initial === child.key); }));
    var box = el('div', { className: 'state' + (active.indexOf(node.id) >= 0 ? ' active' : ''), 'data-state': node.id }, [name, transitions, node.children.length ? children : null]);
    return box;
  }

  function renderDetail(detail) {
    var s = detail.handle.snapshot;
    $('detail').hidden = false;
    $('detail-title').textContent = s.id + ' — ' + s.status + (s.closed ? ' (closed)' : '');
    $('detail-goal').textContent = s.goal || '';
    var live = state && state.mode === 'live';
    Array.prototype.forEach.call(document.querySelectorAll('#controls button, #controls input'), function (b) { b.disabled = !live; });
    if (chart) {
      var box = $('chart');
      box.textContent = '';
      box.appendChild(drawState(chart, detail.handle.activeStates, false));
    }
    var queue = $('queue');
    queue.textContent = '';
    if (detail.queue.length === 0) queue.appendChild(el('li', { className: 'dim', text: 'none' }));
    detail.queue.forEach(function (q) { queue.appendChild(el('li', { text: q.message })); });
    var runs = document.querySelector('#runs tbody');
    runs.textContent = '';
    detail.runs.slice().reverse().forEach(function (r) {
      runs.appendChild(el('tr', null, [el('td', { text: String(r.runId) }), el('td', { className: 'status status-' + r.outcome, text: r.outcome }),
        el('td', { className: 'num', text: duration(r.durationMs) }), el('td', { className: 'num', text: count(r.tokens) }),
        el('td', { text: r.input }), el('td', { text: r.error || '' })]));
    });
    var log = $('log');
    log.textContent = '';
    detail.log.forEach(function (entry) { log.appendChild(el('li', { text: new Date(entry.at).toISOString().slice(11, 23) + ' ' + entry.text })); });
    log.scrollTop = log.scrollHeight;
  }

  function loadDetail() {
    detailTimer = null;
    if (selected === null) return;
    var id = selected;
    fetch(api('/api/handles/' + encodeURIComponent(id))).then(function (r) { return r.ok ? r.json() : null; }).then(function (detail) {
      if (detail && id === selected) renderDetail(detail);
    });
  }
  function scheduleDetail() { if (detailTimer === null) detailTimer = setTimeout(loadDetail, 50); }

  function select(id) {
    selected = id;
    $('control-result').textContent = '';
    renderTree();
    loadDetail();
  }

  function control(path, body) {
    var result = $('control-result');
    return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body: JSON.stringify(body || {}) })
      .then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); })
      .then(function (answer) {
        result.className = answer.ok ? '' : 'failed';
        result.textContent = answer.ok ? 'done' : answer.json.error;
        scheduleDetail();
      }, function (error) { result.className = 'failed'; result.textContent = String(error); });
  }

  Array.prototype.forEach.call(document.querySelectorAll('#controls button[data-action]'), function (button) {
    button.addEventListener('click', function () {
      if (selected !== null) control('/api/handles/' + encodeURIComponent(selected) + '/' + button.getAttribute('data-action'));
    });
  });
  $('send-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var message = $('send-message').value;
    if (selected === null || message.trim() === '') return;
    control('/api/handles/' + encodeURIComponent(selected) + '/send', { message: message, interrupt: $('send-interrupt').checked }).then(function () { $('send-message').value = ''; });
  });

  function render() {
    if (state === null) return;
    renderTotals();
    renderTree();
    renderApprovals();
    if (selected !== null) scheduleDetail();
  }

  if (!token) {
    $('connection').textContent = 'No token in the address: open the URL the view printed when it started (it ends with ?token=…).';
    return;
  }
  fetch(api('/api/statechart')).then(function (r) { return r.json(); }).then(function (c) { chart = c; if (selected !== null) scheduleDetail(); });
  var source = new EventSource(api('/api/events'));
  source.addEventListener('state', function (event) {
    state = JSON.parse(event.data);
    $('connection').textContent = 'live · updated ' + new Date().toLocaleTimeString();
    document.body.setAttribute('data-updates', String(Number(document.body.getAttribute('data-updates') || 0) + 1));
    render();
  });
  source.addEventListener('error', function () { $('connection').textContent = 'disconnected; retrying…'; });
  // Elapsed times move on between updates.
  setInterval(function () { if (state && state.totals.running > 0) renderTree(); }, 1000);
})();
`;
