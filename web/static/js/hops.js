// The path of a notification, in order: the waterfall's lanes. Each hop
// names its lane, who speaks, and how a marker reads.
export const PATH = [
  ['server.sent', 'server sent', 'server'],
  ['proxy.received', 'proxy received', 'proxy'],
  ['proxy.forwarded', 'forwarded', 'proxy'],
  ['fault.injected', 'fault injected', 'fault'],
  ['provider.rejected', 'provider rejected', 'provider'],
  ['provider.accepted', 'provider accepted', 'provider'],
  ['provider.stored', 'stored (device offline)', 'provider'],
  ['provider.dropped', 'dropped by provider', 'provider'],
  ['proxy.responded', 'proxy → server', 'proxy'],
  ['server.answered', 'server got verdict', 'server'],
  ['server.session_removed', 'session removed', 'server'],
  ['device.delivered', 'device received', 'device'],
  ['device.rejected', 'rejected on device', 'device'],
  ['device.signature_ok', 'signature ✓', 'device'],
  ['device.signature_bad', 'signature ✗', 'device'],
  ['device.decrypted', 'decrypted ✓', 'device'],
  ['device.decrypt_failed', 'decrypt ✗', 'device'],
  ['device.displayed', 'displayed', 'device'],
  ['device.acked', 'acked (device → server)', 'device'],
  ['proxy.acked', 'acked (server → proxy)', 'proxy'],
];
export const RANK = new Map(PATH.map(([hop], i) => [hop, i]));
export const LABEL = new Map(PATH.map(([hop, label]) => [hop, label]));

const BAD = new Set(['provider.rejected', 'device.rejected', 'device.signature_bad', 'device.decrypt_failed', 'server.session_removed', 'provider.dropped']);
const WARN = new Set(['fault.injected', 'provider.stored']);

// tone colours a hop: ok, warn (retry, stored, fault), bad (rejected, REMOVE, FAIL).
export function tone(e) {
  if (BAD.has(e.hop)) return 'bad';
  if (e.status === 'REMOVE' || e.status === 'FAIL') return 'bad';
  if (WARN.has(e.hop)) return 'warn';
  if (e.hop === 'proxy.forwarded' && e.attrs) {
    if (e.attrs.verdict === 'REMOVE' || e.attrs.verdict === 'FAIL') return e.attrs.retry && e.attrs.retry !== 'no' ? 'warn' : 'bad';
    if (e.attrs.retry && e.attrs.retry !== 'no') return 'warn';
  }
  if (/^[45]\d\d$/.test(e.status || '')) return 'bad';
  return 'ok';
}

export function laneLabel(e) {
  let label = LABEL.get(e.hop) || e.hop;
  if (e.hop === 'proxy.forwarded' && e.attrs) label += ` (try ${e.attrs.try || 1})`;
  if ((e.hop === 'provider.accepted' || e.hop === 'provider.rejected') && e.actor) label = `${e.actor === 'mockfcm' ? 'FCM' : 'APNs'} ${e.hop === 'provider.accepted' ? 'accepted' : 'rejected'}`;
  return label;
}

// actorClass groups emitters for colour: server, proxy, apns, fcm, device.
export function actorClass(actor = '') {
  if (actor.startsWith('device:')) return 'a-device';
  if (actor === 'mockapns') return 'a-apns';
  if (actor === 'mockfcm') return 'a-fcm';
  if (actor.startsWith('proxy')) return 'a-proxy';
  if (actor.startsWith('server')) return 'a-server';
  return 'a-other';
}
