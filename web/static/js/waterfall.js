// The waterfall: one lane per hop in path order, each with its offset from
// the server's send and a bar from the hop before it. "Provider accepted"
// and "device received" are their own markers, never one.
import { h, $, fmtMs, fmtTime, atMs } from './dom.js';
import { store, onRender, touch } from './store.js';
import { RANK, laneLabel, tone, actorClass } from './hops.js';

export function ordered(t) {
  return [...t.events].sort((a, b) => (RANK.get(a.hop) ?? 99) - (RANK.get(b.hop) ?? 99) || atMs(a.at) - atMs(b.at) || a.seq - b.seq);
}

export function initWaterfall() { onRender(render); }

function render(dirty) {
  if (!dirty.has('trace')) return;
  const w = $('#waterfall');
  const t = store.traces.get(store.selected);
  if (!t) {
    w.replaceChildren(h('div.empty', { text: 'Pick a notification on the left to see its path: server → proxy → APNs/FCM → phone → ack.' }));
    $('#trace-title').textContent = 'Waterfall';
    $('#trace-sub').textContent = 'select a notification';
    return;
  }
  const evs = ordered(t);
  const times = evs.map((e) => atMs(e.at));
  const t0 = Math.min(...times);
  const span = Math.max(1, Math.max(...times) - t0);
  $('#trace-title').textContent = `${t.device || '?'} · ${t.type || 'message'}`;
  $('#trace-sub').textContent = `ack_id ${t.id} · ${evs.length} hops · ${fmtMs(span)}`;

  // Round ticks (1, 2 or 5 × 10^n), about four across.
  const raw = span / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const stepMs = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw) || raw;
  const marks = [];
  for (let v = 0; v <= span * 1.0001; v += stepMs) marks.push(v);
  const ticks = h('div.ticks', null, marks.map((v) => h('span', { style: `left:${(v / span) * 100}%`, text: fmtMs(v) })));
  const lanes = evs.map((e, i) => {
    const at = atMs(e.at) - t0;
    // The bar runs from the latest earlier hop on the path to this one.
    let from = 0;
    for (let j = i - 1; j >= 0; j--) { const p = atMs(evs[j].at) - t0; if (p <= at) { from = p; break; } }
    const left = (from / span) * 100;
    const width = Math.max(0.4, ((at - from) / span) * 100);
    const tn = tone(e);
    const marker = e.hop === 'provider.accepted' ? 'diamond' : e.hop === 'device.delivered' ? 'circle' : 'tick';
    const sel = store.selectedSeq === e.seq;
    return h('div.lane.' + tn + '.' + actorClass(e.actor) + (sel ? '.selected' : ''), {
      dataset: { hop: e.hop, seq: e.seq, status: e.status || '' },
      onclick: () => { store.selectedSeq = e.seq; touch('trace'); },
      title: e.detail || '',
    },
    h('div.lane-label', null,
      h('span.actor-dot'),
      h('span.lane-name', { text: laneLabel(e) }),
      e.status ? h('span.lane-status.' + tn, { text: e.status }) : null,
      e.plaintext ? h('span.tag.plain', { text: '⚠ PLAINTEXT' }) : null),
    h('div.lane-track', null,
      h('div.bar', { style: `left:${left}%;width:${width}%` }),
      h('div.marker.' + marker, { style: `left:${(at / span) * 100}%` }),
      h('span.offset', { style: `left:${Math.min(92, (at / span) * 100)}%`, text: '+' + fmtMs(at) })),
    h('div.lane-detail', { text: e.detail || '' }));
  });
  const legend = h('div.legend', null,
    h('span', null, h('i.marker.diamond'), 'provider accepted'),
    h('span', null, h('i.marker.circle'), 'device received'),
    h('span', null, h('i.sw.ok'), 'ok'), h('span', null, h('i.sw.warn'), 'retry / stored / fault'), h('span', null, h('i.sw.bad'), 'rejected / REMOVE / FAIL'),
    h('span.muted', { text: `sent ${fmtTime(t0)}` }));
  w.replaceChildren(ticks, ...lanes, legend);
  if (store.selectedSeq === null && evs.length) store.selectedSeq = evs[0].seq;
  touch('inspector');
}
