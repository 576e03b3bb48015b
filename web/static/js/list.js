// The notification list: one row per trace (ack_id), newest first, filtered.
import { h, $, fmtMs, fmtTime, api, toast } from './dom.js';
import { store, onRender, touch, select, ingest } from './store.js';
import { LABEL } from './hops.js';

const PAGE = 200;
let limit = PAGE;
const filters = { text: '', device: '', platform: '', profile: '', status: '' };
const rows = new Map(); // trace id → { el, version }

function verdict(t) {
  if (t.rejected) return ['rejected', 'bad'];
  if (t.status === 'REMOVE') return ['REMOVE', 'bad'];
  if (t.status === 'FAIL') return ['FAIL', 'bad'];
  if (t.acked) return ['acked', 'ok'];
  if (t.status === 'OK') return ['OK', 'ok'];
  return ['…', 'pending'];
}

function what(t) {
  if (t.type && t.type !== 'message') return t.type.replace('_', ' ');
  if (t.body) return t.body;
  if (t.shown) return t.shown;
  if (t.text) return t.text;
  return t.sealed ? '(sealed contents)' : '';
}

function matches(t) {
  if (filters.device && t.device !== filters.device) return false;
  if (filters.platform && t.platform !== filters.platform) return false;
  if (filters.profile && t.profile !== filters.profile) return false;
  if (filters.status) {
    const [v] = verdict(t);
    if (filters.status === 'pending' ? v !== '…' : v !== filters.status) return false;
  }
  if (filters.text) {
    const q = filters.text.toLowerCase();
    const hay = [t.id, t.device, what(t), t.user, t.channel, t.providerReason, t.rejected].join(' ').toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}

function row(t) {
  const [v, tone] = verdict(t);
  const el = h('div.trace-row', { role: 'listitem', dataset: { trace: t.id, platform: t.platform || '', verdict: v }, onclick: () => select(t.id) },
    h('span.when', { text: t.t0 ? fmtTime(t.t0).slice(0, 8) : '', title: t.t0 ? fmtTime(t.t0) : '' }),
    h('span.plat.' + (t.platform || 'unknown'), { title: t.platform || '' }),
    h('span.who', { text: t.device || '?' }),
    h('span.what', { text: what(t), title: what(t) }),
    h('span.tags', null, t.plaintext ? h('span.tag.plain', { text: 'PLAINTEXT', title: 'contents travelled unencrypted (tpns)' }) : null,
      !t.acked && !t.rejected && t.status !== 'REMOVE' && t.status !== 'FAIL' ? h('span.stage', { text: LABEL.get(t.stageHop) || '', title: 'furthest hop reached so far' }) : null),
    h('span.verdict.' + tone, { text: v }),
    h('span.e2e', { text: t.acked ? fmtMs(t.e2e) : '', title: 'server sent → ack at the proxy' }),
  );
  if (store.selected === t.id) el.classList.add('selected');
  return el;
}

export function initList() {
  const f = $('#filters');
  const text = h('input', { type: 'search', placeholder: 'filter: text, ack_id, device…', id: 'filter-text', oninput: (e) => { filters.text = e.target.value; limit = PAGE; touch('list'); } });
  const sel = (key, label, opts) => h('select', { id: 'filter-' + key, title: label, onchange: (e) => { filters[key] = e.target.value; limit = PAGE; touch('list'); } },
    h('option', { value: '', text: label }), opts.map((o) => h('option', { value: o, text: o })));
  f.append(text,
    sel('platform', 'platform', ['ios', 'android']),
    sel('profile', 'profile', ['hpns', 'eas', 'tpns']),
    sel('status', 'verdict', ['acked', 'OK', 'REMOVE', 'FAIL', 'rejected', 'pending']),
    h('select', { id: 'filter-device', title: 'device', onchange: (e) => { filters.device = e.target.value; limit = PAGE; touch('list'); } }, h('option', { value: '', text: 'device' })));
  $('#more').onclick = () => { limit += PAGE; touch('list'); };
  $('#older').onclick = async () => {
    if (!store.oldestSeq) return;
    try {
      const frames = await api('GET', `/api/older?before=${store.oldestSeq}&n=200`);
      if (!frames.length) { toast('nothing older in the view\'s history', 'info'); return; }
      ingest(frames, { older: true });
    } catch (err) { toast(err.message); }
  };
  onRender(render);
}

function render(dirty) {
  if (dirty.has('devices')) {
    const ds = $('#filter-device');
    const have = [...ds.options].map((o) => o.value);
    for (const d of store.devices) if (!have.includes(d.name)) ds.append(h('option', { value: d.name, text: d.name }));
  }
  if (!dirty.has('list')) return;
  const list = $('#list');
  const out = [];
  let total = 0;
  for (let i = store.order.length - 1; i >= 0; i--) {
    const t = store.traces.get(store.order[i]);
    if (!t || !matches(t)) continue;
    total++;
    if (out.length >= limit) continue;
    let r = rows.get(t.id);
    const sel = store.selected === t.id;
    if (!r || r.version !== t.version || r.sel !== sel) {
      r = { el: row(t), version: t.version, sel };
      rows.set(t.id, r);
    }
    out.push(r.el);
  }
  if (rows.size > limit * 3) for (const id of rows.keys()) if (!store.traces.has(id)) rows.delete(id);
  if (store.gaps) out.unshift(h('div.gap-row', { text: `⚠ ${store.gaps} event(s) were lost on the way to this view (see the notes): the timeline has holes` }));
  list.replaceChildren(...out);
  $('#list-count').textContent = `${total} shown of ${store.traces.size}`;
  $('#more').hidden = total <= limit;
}
