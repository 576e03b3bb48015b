// Throughput (events/s, sends/s) and end-to-end latency (p50/p95) over the
// last minute, drawn on a canvas once per stats frame.
import { $ } from './dom.js';
import { store, onRender } from './store.js';

export function initChart() { onRender((d) => { if (d.has('stats')) draw(); }); }

function draw() {
  const c = $('#chart');
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, hgt = c.clientHeight;
  if (c.width !== w * dpr) { c.width = w * dpr; c.height = hgt * dpr; }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, hgt);
  const hs = store.statsHistory;
  if (!hs.length) return;
  const pts = hs.slice(-120);
  const n = Math.max(60, pts.length); // half a minute's scale until there is more (a point each 0.5 s)
  const step = w / (n - 1);
  const x0 = w - (pts.length - 1) * step;
  const maxEps = Math.max(10, ...pts.map((p) => p.eps));
  const maxLat = Math.max(5, ...pts.map((p) => p.p95_ms || 0));
  // events/s as a filled area
  g.beginPath();
  g.moveTo(x0, hgt);
  pts.forEach((p, i) => g.lineTo(x0 + i * step, hgt - 4 - (p.eps / maxEps) * (hgt - 16)));
  g.lineTo(x0 + (pts.length - 1) * step, hgt);
  g.closePath();
  const grad = g.createLinearGradient(0, 0, 0, hgt);
  grad.addColorStop(0, 'rgba(99,179,237,0.55)');
  grad.addColorStop(1, 'rgba(99,179,237,0.05)');
  g.fillStyle = grad;
  g.fill();
  const line = (key, max, color, dash) => {
    g.beginPath();
    g.setLineDash(dash || []);
    pts.forEach((p, i) => { const y = hgt - 4 - ((p[key] || 0) / max) * (hgt - 16); i ? g.lineTo(x0 + i * step, y) : g.moveTo(x0, y); });
    g.strokeStyle = color; g.lineWidth = 1.5; g.stroke();
    g.setLineDash([]);
  };
  line('p50_ms', maxLat, '#f6ad55');
  line('p95_ms', maxLat, '#fc8181', [3, 3]);
  const last = pts[pts.length - 1];
  g.font = '11px ui-monospace, SFMono-Regular, Menlo, monospace';
  g.fillStyle = '#90cdf4';
  g.fillText(`${last.eps.toFixed(0)} ev/s · ${last.sps.toFixed(0)} sent/s`, 6, 12);
  g.fillStyle = '#f6ad55';
  const lat = last.p50_ms ? `e2e p50 ${last.p50_ms.toFixed(1)} ms · p95 ${last.p95_ms.toFixed(1)} ms` : 'e2e latency: no acks lately';
  g.fillText(lat, 6, 26);
}
