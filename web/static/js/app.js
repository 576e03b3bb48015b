// pushlab live view: one store fed by the websocket, one module per view,
// rendering batched per animation frame.
import { h, $, fmtTime } from './dom.js';
import { store, connect, onRender } from './store.js';
import { initList } from './list.js';
import { initWaterfall } from './waterfall.js';
import { initInspector } from './inspector.js';
import { initDevices } from './devices.js';
import { initControls } from './controls.js';
import { initChart } from './chart.js';

const COUNTERS = [
  ['sent', 'sent', ''], ['accepted', 'provider ok', ''], ['delivered', 'delivered', ''], ['displayed', 'displayed', ''],
  ['acked', 'acked', 'ok'], ['remove', 'REMOVE', 'bad'], ['fail', 'FAIL', 'bad'], ['rejected', 'rejected on device', 'bad'],
];

function renderCounters() {
  const s = store.stats || {};
  $('#counters').replaceChildren(...COUNTERS.map(([k, label, tone]) => h('div.counter' + (tone && s[k] ? '.' + tone : ''), { dataset: { counter: k } },
    h('span.n', { text: (s[k] || 0).toLocaleString() }), h('span.l', { text: label }))));
}

function renderConn() {
  const el = $('#conn');
  el.className = 'conn ' + store.conn.replace(' ', '-');
  el.querySelector('.label').textContent = store.conn;
}

function renderNotes() {
  const down = store.stats && store.stats.sources ? Object.entries(store.stats.sources).filter(([, v]) => v.state !== 'up') : [];
  const lastGap = [...store.notes].reverse().find((n) => n.k === 'gap');
  const b = $('#banner');
  const msgs = [];
  for (const [name, v] of down) msgs.push(`source ${name} is down (${v.err || 'no answer'}): re-dialling`);
  if (lastGap) msgs.push(`gap: ${lastGap.missing} event(s) lost from ${lastGap.src || 'the view'} at ${fmtTime(Date.now())} — ${lastGap.why}`);
  b.hidden = !msgs.length;
  b.replaceChildren(...msgs.map((m) => h('div', { text: '⚠ ' + m })));
}

// Activity: what happened outside any one notification, newest first.
function renderActivity() {
  const rows = [...store.notes].reverse().slice(0, 40).map((f) => {
    if (f.k === 'gap') return h('div.act.bad', null, h('span.when', { text: '' }), h('span.who', { text: f.src || 'view' }), h('span.what', { text: `gap: ${f.missing} event(s) lost — ${f.why}` }));
    if (f.k === 'source') return h('div.act.' + (f.state === 'up' ? 'ok' : 'bad'), null, h('span.when', { text: '' }), h('span.who', { text: f.src }), h('span.what', { text: `source ${f.state}${f.err ? ': ' + f.err : ''}` }));
    const e = f.e;
    return h('div.act' + (e.hop === 'fault.injected' ? '.warn' : ''), { title: e.detail || '' },
      h('span.when', { text: fmtTime(e.at).slice(0, 8) }),
      h('span.who', { text: e.actor }),
      h('span.what', { text: `${e.status ? e.status + ' · ' : ''}${e.detail || e.hop}` }));
  });
  $('#activity').replaceChildren(...rows);
}

initControls();
initList();
initWaterfall();
initInspector();
initDevices();
initChart();
onRender((d) => {
  if (d.has('stats')) { renderCounters(); renderNotes(); }
  if (d.has('conn')) renderConn();
  if (d.has('notes')) { renderNotes(); renderActivity(); }
});
renderCounters();
connect();
// For a developer's console (and the browser test): the page's one store.
window.pushlab = store;
