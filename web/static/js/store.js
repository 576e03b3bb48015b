// The one store: fed by the websocket, read by every view. Views re-render
// once per animation frame, only the parts whose data changed.
import { RANK } from './hops.js';
import { atMs } from './dom.js';

export const MAX_TRACES = 3000; // in memory; older ones come back with "load older"
const MAX_NOTES = 300;          // gaps, source changes, registrations
const MAX_STATS = 240;          // stats frames of chart (two a second)

export const store = {
  traces: new Map(),  // trace id → trace
  order: [],          // trace ids, oldest first
  notes: [],          // frames without a trace
  devices: [],
  stats: null,
  statsHistory: [],
  lastSeq: 0,
  oldestSeq: 0,
  conn: 'connecting',
  selected: null,
  selectedSeq: null,
  dirty: new Set(),
  version: 0,
};

const views = [];
export function onRender(fn) { views.push(fn); }

let scheduled = false;
export function touch(...parts) {
  for (const p of parts) store.dirty.add(p);
  if (!scheduled) {
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      const dirty = store.dirty;
      store.dirty = new Set();
      for (const v of views) v(dirty);
    });
  }
}

function reset() {
  store.traces.clear();
  store.order = [];
  store.notes = [];
  store.lastSeq = 0;
  store.oldestSeq = 0;
  cap = MAX_TRACES;
  touch('list', 'trace', 'notes');
}

let cap = MAX_TRACES; // grows by what "load older" brings back
let unsorted = false;

function traceOf(id, seq, older) {
  let t = store.traces.get(id);
  if (!t) {
    t = { id, events: [], firstSeq: seq, status: 'pending', version: 0, stage: -1 };
    store.traces.set(id, t);
    const last = store.traces.get(store.order[store.order.length - 1]);
    store.order.push(id);
    if (last && seq < last.firstSeq) unsorted = true;
    if (older) cap++;
    else if (store.order.length > cap) {
      for (const old of store.order.splice(0, store.order.length - cap)) store.traces.delete(old);
      store.oldestSeq = store.traces.get(store.order[0]).firstSeq;
    }
  }
  return t;
}

// platformOf maps the proxy's push types (apple, apple_rn, android_rn…) to ios / android.
export function platformOf(p) {
  if (!p) return p;
  if (p.startsWith('apple') || p === 'ios') return 'ios';
  if (p.startsWith('android')) return 'android';
  return p;
}

function parseJSON(s) { try { return JSON.parse(s); } catch { return null; } }

// summarize keeps a trace's row facts current as its hops arrive.
function summarize(t, e) {
  const a = e.attrs || {};
  if (e.plaintext) t.plaintext = true;
  const at = atMs(e.at);
  if (t.t0 === undefined || at < t.t0) t.t0 = at;
  if (t.tEnd === undefined || at > t.tEnd) t.tEnd = at;
  const rank = RANK.get(e.hop) ?? -1;
  if (rank > t.stage) { t.stage = rank; t.stageHop = e.hop; }
  switch (e.hop) {
    case 'server.sent': {
      t.device = a.device; t.platform = a.platform; t.type = a.type; t.profile = a.profile; t.contents = a.contents;
      t.user = t.user || '';
      const pn = parseJSON(e.payload || '');
      if (!pn && /"message":"v1\./.test(e.payload || '')) t.sealed = true; // an excerpt cut short
      if (pn) {
        t.user = pn.user_id || t.user;
        const msg = pn.message || '';
        t.sealed = msg.startsWith('v1.') || !!pn.encrypted;
        if (!t.text) t.text = t.sealed ? '' : msg;
        t.channel = pn.channel_name;
      }
      if (e.status === 'FAIL') t.status = 'FAIL';
      break;
    }
    case 'proxy.responded':
    case 'server.answered':
      if (e.status) t.status = e.status;
      break;
    case 'server.session_removed': t.removed = true; break;
    case 'device.displayed': {
      t.shown = e.detail;
      // "title" / "subtitle" — "body" [badge n]: the list shows the body.
      const m = /— "((?:[^"\\]|\\.)*)"/.exec(e.detail || '');
      if (m) { try { t.body = JSON.parse('"' + m[1] + '"'); } catch { t.body = m[1]; } }
      break;
    }
    case 'device.rejected': t.rejected = e.status || 'rejected'; break;
    case 'proxy.acked': t.acked = true; t.e2e = at - (t.sentAt ?? t.t0); break;
    case 'provider.rejected': t.providerReason = e.status; break;
  }
  if (e.hop === 'server.sent') t.sentAt = at;
  if (!t.device && e.actor && e.actor.startsWith('device:')) t.device = e.actor.slice(7);
  if (!t.platform && a.platform) t.platform = a.platform;
  t.platform = platformOf(t.platform);
}

// A mock that answers before it has read the body (a scripted fault) can
// only name the push by its apns-id; the proxy's forwarded hop carries the
// same id, so those hops join the notification's trace.
const alias = new Map(); // apns-id → ack_id

function adopt(ackId, otherId) {
  const other = store.traces.get(otherId);
  const t = store.traces.get(ackId);
  if (!other || !t || other === t) return;
  for (const x of other.events) { x.trace_id = ackId; t.events.push(x); summarize(t, x); }
  t.version++;
  store.traces.delete(otherId);
  store.order = store.order.filter((id) => id !== otherId);
}

function ingestEvent(f, older) {
  const e = f.e;
  e.seq = f.seq;
  e.src = f.src;
  if (e.trace_id && alias.has(e.trace_id)) e.trace_id = alias.get(e.trace_id);
  if (e.hop === 'proxy.forwarded' && e.attrs && e.attrs.id && e.attrs.id !== e.trace_id) {
    alias.set(e.attrs.id, e.trace_id);
    if (alias.size > 20000) alias.delete(alias.keys().next().value);
    queueMicrotask(() => { adopt(e.trace_id, e.attrs.id); touch('list', 'trace'); });
  }
  if (!e.trace_id) {
    store.notes.push(f);
    if (store.notes.length > MAX_NOTES) store.notes.shift();
    touch('notes');
    return;
  }
  const t = traceOf(e.trace_id, f.seq, older);
  t.events.push(e);
  t.version++;
  summarize(t, e);
  touch('list');
  if (store.selected === t.id) touch('trace');
}

export function ingest(frames, { older = false } = {}) {
  for (const f of frames) {
    if (f.k === 'hello') {
      if (!f.resumed) reset();
      store.hubSeq = f.seq;
      continue;
    }
    if (f.seq) {
      if (!older && f.seq <= store.lastSeq) continue; // seen: a resume never repeats
      if (!older) store.lastSeq = f.seq;
      if (!store.oldestSeq || f.seq < store.oldestSeq) store.oldestSeq = f.seq;
    }
    switch (f.k) {
      case 'ev':
        if (older && store.traces.has(f.e.trace_id) && store.traces.get(f.e.trace_id).events.some((x) => x.seq === f.seq)) break;
        ingestEvent(f, older);
        break;
      case 'gap':
      case 'source':
        store.notes.push(f);
        if (store.notes.length > MAX_NOTES) store.notes.shift();
        if (f.k === 'gap') store.gaps = (store.gaps || 0) + (f.missing || 0);
        touch('notes', 'list');
        break;
      case 'devices':
        store.devices = f.data || [];
        touch('devices');
        break;
      case 'stats':
        store.stats = f.data;
        store.statsHistory.push(f.data);
        if (store.statsHistory.length > MAX_STATS) store.statsHistory.shift();
        touch('stats');
        break;
    }
  }
  if (unsorted) {
    unsorted = false;
    store.order.sort((a, b) => store.traces.get(a).firstSeq - store.traces.get(b).firstSeq);
  }
}

// connect keeps one websocket open, reconnecting with backoff and resuming
// from the last seq this page holds.
export function connect() {
  let wait = 250;
  const open = () => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws?since=${store.lastSeq}`);
    ws.onopen = () => { wait = 250; store.conn = 'live'; touch('conn'); };
    ws.onmessage = (m) => {
      let frames;
      try { frames = JSON.parse(m.data); } catch { return; }
      ingest(Array.isArray(frames) ? frames : [frames]);
    };
    ws.onclose = (ev) => {
      store.conn = ev.code === 4000 ? 'catching up' : 'reconnecting';
      touch('conn');
      const delay = ev.code === 4000 ? 50 : wait;
      wait = Math.min(wait * 2, 8000);
      setTimeout(open, delay + Math.random() * 100);
    };
  };
  open();
}

export function select(id, seq = null) {
  store.selected = id;
  store.selectedSeq = seq;
  touch('trace', 'list');
}
