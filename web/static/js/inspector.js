// The inspector: everything one hop carried. Request headers, JWT/OAuth
// claims and key fingerprints as the actor reported them, the payload as it
// travelled, and the sealed envelope beside what the device made of it.
import { h, $, fmtTime, api } from './dom.js';
import { store, onRender, touch } from './store.js';
import { laneLabel, tone } from './hops.js';
import { ordered } from './waterfall.js';

export function initInspector() { onRender((d) => { if (d.has('inspector') || d.has('trace')) render(); }); }

// What the mocks recorded for a notification (headers, the credential as they
// verified it, the body), fetched once per trace and again when it grows.
const recorded = new Map(); // trace id → { n: events seen, reqs: [] | null }
function requestsFor(t) {
  const have = recorded.get(t.id);
  if (have && have.n === t.events.length) return have.reqs;
  recorded.set(t.id, { n: t.events.length, reqs: have ? have.reqs : null });
  if (recorded.size > 200) recorded.delete(recorded.keys().next().value);
  api('GET', `/api/requests?trace=${encodeURIComponent(t.id)}`)
    .then((reqs) => { recorded.set(t.id, { n: t.events.length, reqs }); if (store.selected === t.id) touch('inspector'); })
    .catch(() => {}); // a collecting view has no mocks to ask
  return have ? have.reqs : null;
}

function flatten(obj, prefix = '', out = []) {
  for (const [k, v] of Object.entries(obj || {})) {
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, prefix + k + '.', out);
    else out.push([prefix + k, Array.isArray(v) ? v.join(', ') : String(v)]);
  }
  return out;
}

function requestBox(r) {
  const name = r.provider === 'apns' ? 'APNs' : 'FCM';
  return h('div.box.request', null,
    h('h3', { text: `${name} received: ${r.method} ${r.path} → ${r.status}${r.reason ? ' ' + r.reason : ''}${r.fault ? ' (fault ' + r.fault + ')' : ''}` }),
    h('div.grid2', null,
      table('Request headers', Object.entries(r.headers || {}).sort()),
      table('Credential the mock verified', flatten(r.auth))),
    r.body ? h('pre.json', { text: pretty(r.body) }) : null);
}

const isHeader = (k) => k.startsWith('apns-') || k.startsWith(':') || k === 'authorization' || k === 'content-type' || k === 'id';
const isCrypto = (k) => /kid|key|fingerprint|fp|iss|sub|aud|claim|jwt|oauth|cert|scope|team|signature|alg/i.test(k);

function table(title, entries) {
  if (!entries.length) return null;
  return h('div.box', null, h('h3', { text: title }),
    h('table.kv', null, entries.map(([k, v]) => h('tr', null, h('th', { text: k }), h('td', { text: v })))));
}

function pretty(s) {
  try { return JSON.stringify(JSON.parse(s), null, 2); } catch { return s; }
}

function envelopeOf(payload) {
  let found = null;
  const walk = (v) => {
    if (found) return;
    if (typeof v === 'string' && /^v1\.[A-Za-z0-9_-]{16,}/.test(v)) found = v;
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  try { walk(JSON.parse(payload)); } catch { /* an excerpt cut mid-way */ }
  if (!found) { const m = /v1\.[A-Za-z0-9_-]{16,}/.exec(payload || ''); if (m) found = m[0]; }
  return found;
}

function render() {
  const box = $('#inspector');
  const t = store.traces.get(store.selected);
  if (!t) { box.replaceChildren(h('div.empty', { text: 'Each hop\'s headers, claims, fingerprints and payload appear here.' })); return; }
  const evs = ordered(t);
  const e = evs.find((x) => x.seq === store.selectedSeq) || evs[0];
  if (!e) return;
  $('#insp-sub').textContent = `${laneLabel(e)} · ${e.actor}`;
  const a = e.attrs || {};
  const keys = Object.keys(a).sort();
  const parts = [];
  if (e.plaintext || t.plaintext) {
    parts.push(h('div.plain-warning', { role: 'alert' },
      h('strong', { text: '⚠ PLAINTEXT' }),
      ' This push travelled without content encryption (tpns profile): the message, channel and sender were readable by the proxy, Apple or Google, and every log on the way.'));
  }
  parts.push(h('div.insp-head', null,
    h('span.pill.' + tone(e), { text: e.status || 'ok' }),
    h('code', { text: e.hop }),
    h('span.muted', { text: `${e.actor} · ${fmtTime(e.at)} · seq ${e.seq}${e.src ? ' · ' + e.src : ''}` })));
  if (e.detail) parts.push(h('p.detail', { text: e.detail }));
  parts.push(h('div.grid2', null,
    table('Headers', keys.filter(isHeader).map((k) => [k, a[k]])),
    table('Claims & fingerprints', keys.filter((k) => !isHeader(k) && isCrypto(k)).map((k) => [k, a[k]])),
    table('Attributes', keys.filter((k) => !isHeader(k) && !isCrypto(k)).map((k) => [k, a[k]]))));

  const provHop = e.actor === 'mockapns' || e.actor === 'mockfcm' || e.hop === 'proxy.forwarded' || e.hop === 'fault.injected';
  if (provHop && store.devices.length) {
    const reqs = requestsFor(t);
    const id = (e.attrs && (e.attrs.id || e.attrs['apns-id'])) || '';
    const mine = reqs ? reqs.filter((r) => !id || r.id === id) : null;
    const shown = mine && mine.length ? mine : reqs;
    if (shown === null) parts.push(h('div.muted.small', { text: 'asking the mocks what they received…' }));
    else if (!shown.length) parts.push(h('div.muted.small', { text: 'the mocks kept no record of this request' }));
    else parts.push(...shown.map(requestBox));
  }
  const env = envelopeOf(e.payload) || envelopeOf((evs.find((x) => x.hop === 'server.sent') || {}).payload);
  if (env) {
    const shown = evs.find((x) => x.hop === 'device.displayed');
    const dec = evs.find((x) => x.hop === 'device.decrypted' || x.hop === 'device.decrypt_failed');
    const sig = evs.find((x) => x.hop === 'device.signature_ok' || x.hop === 'device.signature_bad');
    parts.push(h('div.grid2.envelope', null,
      h('div.box', null, h('h3', { text: 'Sealed envelope: what the proxy, APNs and FCM saw' }), h('pre.env', { text: env })),
      h('div.box', null, h('h3', { text: 'On the device' }),
        h('table.kv', null,
          h('tr', null, h('th', { text: 'signature' }), h('td', { text: sig ? `${sig.hop === 'device.signature_ok' ? '✓' : '✗'} ${sig.detail || ''}` : '—' })),
          h('tr', null, h('th', { text: 'decryption' }), h('td', { text: dec ? `${dec.hop === 'device.decrypted' ? '✓' : '✗'} ${dec.detail || ''}` : '—' })),
          h('tr', null, h('th', { text: 'shown' }), h('td.shown-text', { text: shown ? shown.detail : '—' }))))));
  }
  if (e.payload) {
    const label = e.actor === 'mockapns' ? 'APNs request JSON' : e.actor === 'mockfcm' ? 'FCM message JSON' : 'Payload';
    parts.push(h('div.box', null, h('h3', { text: label + (e.payload.endsWith('…') ? ' (excerpt)' : '') }), h('pre.json', { text: pretty(e.payload) })));
  }
  box.replaceChildren(...parts);
}
