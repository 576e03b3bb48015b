// The inspector: everything one hop carried. Request headers, JWT/OAuth
// claims and key fingerprints as the actor reported them, the payload as it
// travelled, and the sealed envelope beside what the device made of it.
import { h, $, fmtTime } from './dom.js';
import { store, onRender } from './store.js';
import { laneLabel, tone } from './hops.js';
import { ordered } from './waterfall.js';

export function initInspector() { onRender((d) => { if (d.has('inspector') || d.has('trace')) render(); }); }

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
