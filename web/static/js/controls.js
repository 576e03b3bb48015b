// Controls: thin forms over the REST API. The server validates; a 4xx comes
// back as its own sentence in a toast.
import { h, $, api, toast } from './dom.js';
import { store, onRender } from './store.js';

// Faults a tester reaches for, in each provider's own words.
const PRESETS = [
  { id: 'apns-unregistered', label: 'APNs 410 Unregistered', p: 'apns', f: { status: 410, reason: 'Unregistered' } },
  { id: 'apns-baddevicetoken', label: 'APNs 400 BadDeviceToken', p: 'apns', f: { status: 400, reason: 'BadDeviceToken' } },
  { id: 'apns-toomany', label: 'APNs 429 TooManyRequests + Retry-After 1', p: 'apns', f: { status: 429, reason: 'TooManyRequests', retry_after: '1' } },
  { id: 'apns-500', label: 'APNs 500 InternalServerError', p: 'apns', f: { status: 500, reason: 'InternalServerError' } },
  { id: 'apns-503', label: 'APNs 503 ServiceUnavailable', p: 'apns', f: { status: 503, reason: 'ServiceUnavailable' } },
  { id: 'fcm-unregistered', label: 'FCM 404 UNREGISTERED', p: 'fcm', f: { status: 404, reason: 'UNREGISTERED' } },
  { id: 'fcm-quota', label: 'FCM 429 QUOTA_EXCEEDED + Retry-After 1', p: 'fcm', f: { status: 429, reason: 'QUOTA_EXCEEDED', retry_after: '1' } },
  { id: 'fcm-unavailable', label: 'FCM 503 UNAVAILABLE', p: 'fcm', f: { status: 503, reason: 'UNAVAILABLE' } },
  { id: 'latency', label: 'latency 500 ms', p: '', f: { action: 'delay', latency: '500ms' } },
  { id: 'reset', label: 'connection reset', p: '', f: { action: 'reset' } },
  { id: 'goaway', label: 'HTTP/2 GOAWAY', p: '', f: { action: 'goaway' } },
];

let faults = [];
let contents = '';

async function refresh() {
  try {
    const st = await api('GET', '/api/state');
    if (st.controls === false) {
      $('#controls').replaceChildren(h('div.ctl-section', null, h('h3', { text: 'Watching' }),
        h('div.muted.small', { text: 'This view collects running actors\' event streams; the controls drive an in-process lab (pushlab demo).' }),
        h('div.sources', null, Object.entries(st.sources || {}).map(([name, v]) => h('div.small', null, h('span.state.' + (v.state === 'up' ? 'online' : 'offline'), { text: v.state }), ' ', h('code', { text: name }))))));
      return;
    }
    faults = st.faults || [];
    contents = st.contents || '';
    const c = $('#contents');
    if (c && contents) c.value = contents;
    const prof = $('#profile');
    if (prof) prof.textContent = st.profile ? `profile ${st.profile}` : '';
    const users = $('#send-target');
    if (users && st.users) {
      const have = [...users.options].map((o) => o.value);
      for (const u of st.users) if (!have.includes('user:' + u)) users.insertBefore(h('option', { value: 'user:' + u, text: `all of ${u}'s devices` }), users.firstChild);
      if (!users.dataset.init && st.users.length) { users.value = 'user:' + st.users[0]; users.dataset.init = '1'; }
    }
    renderFaults();
  } catch (err) { toast(err.message); }
}

function renderFaults() {
  const box = $('#fault-list');
  if (!box) return;
  box.replaceChildren(...(faults.length ? faults.map((f) => h('div.fault', { dataset: { id: f.id, provider: f.provider } },
    h('span.tag.warn', { text: f.provider }),
    h('span', { text: `${f.action}${f.status ? ' ' + f.status : ''}${f.reason ? ' ' + f.reason : ''}${f.latency && f.latency !== '0s' ? ' +' + f.latency : ''}` }),
    h('span.muted', { text: `${f.device || 'any device'}${f.percent ? ` · ${f.percent}%` : ''}${f.count ? ` · next ${f.count}` : ''} · hits ${f.hits}` }),
    h('button.x', { title: 'remove', text: '×', onclick: async () => { try { await api('DELETE', `/api/faults/${f.provider}/${f.id}`); refresh(); } catch (err) { toast(err.message); } } })))
    : [h('div.muted.small', { text: 'no faults: the mocks answer like Apple and Google on a good day' })]));
}

function section(title, ...body) {
  return h('div.ctl-section', null, h('h3', { text: title }), ...body);
}

export function initControls() {
  const box = $('#controls');
  const target = h('select', { id: 'send-target', title: 'to whom' });
  const type = h('select', { id: 'send-type', title: 'push type' }, ['message', 'clear', 'update_badge', 'test'].map((t) => h('option', { value: t, text: t })));
  const text = h('input', { id: 'send-text', type: 'text', placeholder: 'message text', value: 'Hello from the web view', maxlength: 4000 });
  const badge = h('input', { id: 'send-badge', type: 'number', min: 0, placeholder: 'badge', title: 'badge (optional)' });
  const send = h('button.primary', { id: 'send-btn', text: 'Send', onclick: async () => {
    const [kind, name] = target.value.split(/:(.*)/s);
    const body = { type: type.value, message: text.value };
    if (kind === 'user') body.user_id = name; else body.device = name;
    if (badge.value !== '') body.badge = Number(badge.value);
    send.disabled = true;
    try {
      const res = await api('POST', '/api/send', body);
      const bad = (res.results || []).filter((r) => r.status !== 'OK');
      if (bad.length) toast(bad.map((r) => `${r.device_name}: ${r.status} ${r.error || ''}`).join('; '), 'warn');
    } catch (err) { toast(err.message); } finally { send.disabled = false; }
  } });
  text.addEventListener('keydown', (e) => { if (e.key === 'Enter') send.click(); });

  const cont = h('select', { id: 'contents', title: 'push contents setting', onchange: async (e) => {
    try { await api('PUT', '/api/contents', { contents: e.target.value }); toast(`push contents: ${e.target.value}`, 'info'); } catch (err) { toast(err.message); refresh(); }
  } }, ['generic', 'generic_no_channel', 'full', 'id_loaded'].map((c) => h('option', { value: c, text: c })));

  const fdev = h('select', { id: 'fault-device', title: 'which device' }, h('option', { value: '', text: 'any device' }));
  const preset = h('select', { id: 'fault-preset' }, PRESETS.map((p) => h('option', { value: p.id, text: p.label })));
  const fprov = h('select', { id: 'fault-provider', title: 'for latency/reset/GOAWAY' }, h('option', { value: 'apns', text: 'APNs' }), h('option', { value: 'fcm', text: 'FCM' }));
  const pct = h('input', { id: 'fault-percent', type: 'number', min: 0, max: 100, placeholder: '% (all)', title: 'share of matching pushes' });
  const count = h('input', { id: 'fault-count', type: 'number', min: 0, placeholder: 'count (∞)', title: 'fire on the next N pushes, then retire' });
  const inject = h('button.warn', { id: 'fault-btn', text: 'Inject', onclick: async () => {
    const p = PRESETS.find((x) => x.id === preset.value);
    const dev = store.devices.find((d) => d.name === fdev.value);
    const provider = p.p || (dev ? (dev.platform === 'ios' ? 'apns' : 'fcm') : fprov.value);
    const body = { provider, device: fdev.value || undefined, ...p.f };
    if (pct.value !== '') body.percent = Number(pct.value);
    if (count.value !== '') body.count = Number(count.value);
    try { await api('POST', '/api/faults', body); refresh(); } catch (err) { toast(err.message); }
  } });
  const clear = h('button.ghost', { id: 'fault-clear', text: 'Clear all', onclick: async () => { try { await api('DELETE', '/api/faults'); refresh(); } catch (err) { toast(err.message); } } });

  box.append(
    section('Send', h('div.row', null, target, type), h('div.row', null, text, badge, send)),
    section('Contents', h('div.row', null, cont, h('span.muted.small', { id: 'profile' }))),
    section('Faults', h('div.row', null, fdev, preset), h('div.row', null, fprov, pct, count, inject, clear), h('div.fault-list', { id: 'fault-list' })));
  onRender((d) => {
    if (!d.has('devices')) return;
    for (const sel of [target, fdev]) {
      const have = new Set([...sel.options].map((o) => o.value));
      for (const dv of store.devices) {
        const v = sel === target ? 'device:' + dv.name : dv.name;
        if (!have.has(v)) sel.append(h('option', { value: v, text: sel === target ? `${dv.name} only` : dv.name }));
      }
    }
    refresh();
  });
  refresh();
}
