// Device cards drawn as lock screens: an iPhone (Dynamic Island, centred
// clock, frosted banners) and an Android phone (punch-hole camera, left
// clock, Material cards), each with its state and its own controls.
import { h, $, api, toast } from './dom.js';
import { store, onRender } from './store.js';

export function initDevices() {
  onRender((d) => {
    if (d.has('devices')) render();
    else if (d.has('list') && !store.devices.length) throttledDerive();
  });
}

// A view that only collects (pushlab web --collect) has no fleet to ask:
// its cards are drawn from what the devices reported on the spine.
let deriveTimer = null;
function throttledDerive() {
  if (deriveTimer) return;
  deriveTimer = setTimeout(() => { deriveTimer = null; render(); }, 500);
}

const unq = (s) => { try { return JSON.parse('"' + s + '"'); } catch { return s; } };
const SHOWN = /^(?:PLAINTEXT: )?"((?:[^"\\]|\\.)*)"(?: \/ "((?:[^"\\]|\\.)*)")? — "((?:[^"\\]|\\.)*)"(?: \[badge (\d+)\])?/;

function derived() {
  const byName = new Map();
  for (const id of store.order) {
    const t = store.traces.get(id);
    for (const e of t.events) {
      if (!e.actor || !e.actor.startsWith('device:')) continue;
      const name = e.actor.slice(7);
      let d = byName.get(name);
      if (!d) {
        d = { name, platform: (e.attrs && e.attrs.platform) || '', app: 'observed', app_id: 'from its events', environment: e.src || '',
          installed: true, online: true, badge: 0, shown: [], observed: true, stats: { delivered: 0, displayed: 0, acked: 0, rejected: 0 } };
        byName.set(name, d);
      }
      if (e.attrs && e.attrs.token) d.token = e.attrs.token;
      if (e.hop === 'device.delivered') d.stats.delivered++;
      if (e.hop === 'device.acked') d.stats.acked++;
      if (e.hop === 'device.rejected') d.stats.rejected++;
      if (e.hop === 'device.displayed') {
        d.stats.displayed++;
        const m = SHOWN.exec(e.detail || '');
        if (m) {
          d.shown.unshift({ ack_id: e.trace_id, type: 'message', title: unq(m[1]), subtitle: m[2] ? unq(m[2]) : '', body: unq(m[3]), at: e.at, plaintext: e.plaintext });
          if (m[4]) d.badge = Number(m[4]);
        }
      }
    }
  }
  for (const d of byName.values()) d.shown = d.shown.slice(0, 5);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function clock(platform) {
  const now = new Date();
  const hm = now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  const day = now.toLocaleDateString([], { weekday: 'long', month: 'long', day: 'numeric' });
  return platform === 'ios'
    ? [h('div.lock-date', { text: day }), h('div.lock-time', { text: hm })]
    : [h('div.lock-time', { text: hm }), h('div.lock-date', { text: day })];
}

function ago(at) {
  const s = Math.max(0, (Date.now() - Date.parse(at)) / 1000);
  if (s < 60) return 'now';
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

function banner(d, n) {
  const tags = [];
  if (n.plaintext) tags.push(h('span.tag.plain', { text: 'PLAINTEXT' }));
  if (n.fallback) tags.push(h('span.tag.warn', { text: 'fallback' }));
  if (n.verified) tags.push(h('span.tag.okay', { text: 'signed ✓' }));
  if (n.decrypted) tags.push(h('span.tag.okay', { text: 'decrypted ✓' }));
  if (n.fetched) tags.push(h('span.tag.okay', { text: 'fetched' }));
  if (d.platform === 'ios' && n.thread_id) tags.push(h('span.tag.thread', { text: 'thread ' + n.thread_id.slice(0, 6) + '…', title: 'thread-id ' + n.thread_id }));
  return h('div.notif', { dataset: { ack: n.ack_id, type: n.type }, onclick: () => { if (store.traces.has(n.ack_id)) { store.selected = n.ack_id; store.selectedSeq = null; import('./store.js').then((m) => m.touch('trace', 'list')); } } },
    h('div.notif-head', null,
      h('span.app-icon'),
      h('span.app-name', { text: d.platform === 'ios' ? 'MATTERMOST' : 'Mattermost' }),
      d.platform === 'android' && n.thread_id ? h('span.thread', { text: '• ' + n.thread_id }) : null,
      h('span.notif-time', { text: ago(n.at) })),
    n.title ? h('div.notif-title', { text: n.title }) : null,
    n.subtitle ? h('div.notif-sub', { text: n.subtitle }) : null,
    h('div.notif-body', { text: n.body || (n.type === 'clear' ? 'notifications cleared' : n.type === 'update_badge' ? `badge ${n.badge}` : '') }),
    tags.length ? h('div.notif-tags', null, tags) : null);
}

// A Live Activity on the lock screen: its type, state and content state.
function activity(a) {
  let content = '';
  try { content = Object.entries(a.content_state || {}).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · '); } catch { /* shown raw below */ }
  return h('div.live-activity.' + (a.state || 'active'), { title: `activity ${a.id} · ${a.updates} update(s)` },
    h('div.la-head', null, h('span.la-dot'), h('span', { text: a.attributes_type }), h('span.la-state', { text: a.state })),
    h('div.la-body', { text: content || JSON.stringify(a.content_state) }));
}

async function act(name, action) {
  try { await api('POST', `/api/devices/${encodeURIComponent(name)}/${action}`); } catch (err) { toast(`${name}: ${err.message}`); }
}

function card(d) {
  const state = !d.installed ? 'uninstalled' : d.online ? 'online' : 'offline';
  const shown = (d.shown || []).filter((n) => n.type !== 'clear' && n.type !== 'update_badge');
  const screen = h('div.screen', null,
    h('div.statusbar', null,
      h('span.sb-left', { text: d.platform === 'ios' ? 'pushlab' : new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false }) }),
      d.platform === 'ios' ? h('span.island') : h('span.punch'),
      h('span.sb-right', { text: state === 'offline' ? '✈' : '▂▄▆ ▮' })),
    h('div.lock', null, clock(d.platform)),
    h('div.stack', null,
      (d.activities || []).filter((a) => a.state !== 'dismissed').map(activity),
      shown.length ? shown.map((n) => banner(d, n)) : h('div.no-notif', { text: state === 'uninstalled' ? '' : 'No notifications' })),
    state !== 'online' ? h('div.overlay.' + state, { text: state === 'uninstalled' ? 'App not installed' : 'Offline — APNs/FCM store pushes' }) : null,
    h('div.homebar'));
  const badge = d.badge > 0 ? h('span.badge', { text: d.badge }) : null;
  return h('div.device', { dataset: { name: d.name } },
    h('div.phone.' + (d.platform === 'ios' ? 'ios' : 'android') + '.' + state, { dataset: { name: d.name, state } }, screen),
    h('div.dev-meta', null,
      h('div.dev-name', null, h('strong', { text: d.name }), badge, h('span.state.' + state, { text: state })),
      h('div.muted.small', { text: `${d.app} · ${d.app_id} · ${d.environment}` }),
      h('div.muted.small', null, 'token ', h('code', { text: d.token || '—' }), ' · key ', h('code', { text: d.key_id || '—' })),
      d.observed ? null : h('div.session.' + (d.session_live ? 'live' : 'removed'), { text: d.session ? (d.session_live ? `session ${d.session}` : `session ${d.session} removed by the server`) : 'no session' }),
      h('div.muted.small', { text: `delivered ${d.stats.delivered} · shown ${d.stats.displayed} · acked ${d.stats.acked} · rejected ${d.stats.rejected}` }),
      d.observed ? null : h('div.dev-actions', null,
        h('button.small', { text: state === 'offline' ? 'go online' : 'go offline', disabled: state === 'uninstalled', onclick: () => act(d.name, state === 'offline' ? 'online' : 'offline') }),
        h('button.small', { text: d.installed ? 'uninstall' : 'reinstall', onclick: () => act(d.name, d.installed ? 'uninstall' : 'reinstall') }),
        d.installed ? h('button.small', { text: 'reinstall', onclick: () => act(d.name, 'reinstall') }) : null)));
}

function render() {
  const box = $('#devices');
  const devices = store.devices.length ? store.devices : derived();
  if (!devices.length) { box.replaceChildren(h('div.empty', { text: 'No device has reported yet.' })); return; }
  box.replaceChildren(...devices.map(card));
  $('#dev-sub').textContent = store.devices.length ? `${devices.length} phones` : `${devices.length} phones, seen on the event streams`;
}
