// The admins' dashboard: payments per minute from GET /v1/admin/stats, with the
// window's totals and a bar chart drawn here in SVG (no chart library).

import { h, s, fill, yuan, when } from './staff-dom.js';
import { t, lang } from './staff-i18n.js';
import { api, query } from './staff-api.js';
import { problem, loading } from './staff-ui.js';

const WINDOW = 'hebao.staff.dashWindow';
const METRIC = 'hebao.staff.dashMetric';
const REFRESH_MS = 15000;
const windows = [30, 60, 180];

export async function dashboardPage(root, _match, ctx) {
  let minutes = Number(sessionStorage.getItem(WINDOW)) || 60;
  if (!windows.includes(minutes)) minutes = 60;
  let metric = sessionStorage.getItem(METRIC) === 'amount' ? 'amount' : 'count';
  let last = null;

  const pick = h('select', { id: 'dash-window', onchange: () => {
    minutes = Number(pick.value);
    sessionStorage.setItem(WINDOW, String(minutes));
    load();
  } }, windows.map((n) => h('option', { value: n, selected: n === minutes }, t('dash.minutesN', { n }))));
  const metricButtons = h('div', { class: 'tabs', role: 'tablist' });
  const totals = h('div', { id: 'dash-totals', class: 'tiles' });
  const chart = h('figure', { id: 'dash-chart', class: 'card chart' });
  const foot = h('p', { class: 'muted small', id: 'dash-updated' });
  const err = h('div');

  const draw = () => {
    fill(metricButtons, ['count', 'amount'].map((m) => h('button', { type: 'button', role: 'tab', class: m === metric ? 'tab current' : 'tab',
      'aria-selected': String(m === metric), id: 'metric-' + m,
      onclick: () => { metric = m; sessionStorage.setItem(METRIC, m); draw(); } }, t(m === 'count' ? 'dash.byCount' : 'dash.byAmount'))));
    if (!last) return;
    const st = last;
    const peak = Math.max(0, ...st.minutes.map((m) => m.count));
    fill(totals,
      tile(t('dash.count'), st.count.toLocaleString(), 'dash-count'),
      tile(t('dash.amount'), yuan(st.amount), 'dash-amount'),
      tile(t('dash.perMinute'), perMinute(st.count, st.minutes.length), 'dash-rate'),
      tile(t('dash.peak'), peak.toLocaleString(), 'dash-peak'));
    const title = t(metric === 'count' ? 'dash.chartTitle' : 'dash.chartAmountTitle');
    fill(chart, h('figcaption', null, title), barChart(st.minutes, metric, title));
  };

  const load = async () => {
    try {
      last = await api('GET', '/v1/admin/stats' + query({ minutes }));
      fill(err);
      draw();
      fill(foot, t('dash.updated', { time: when(new Date().toISOString(), lang(), true) }), ' · ', t('dash.source'));
    } catch (e) {
      fill(err, problem(e));
    }
  };

  fill(root, h('h2', null, t('dash.title')),
    h('div', { class: 'toolbar' }, h('label', null, t('dash.window'), ' ', pick), h('span', { class: 'spacer' }), t('dash.metric'), ' ', metricButtons),
    err, totals, chart, foot);
  fill(totals, loading());
  draw();
  await load();
  const timer = setInterval(load, REFRESH_MS);
  ctx.onStop(() => clearInterval(timer));
}

function perMinute(count, minutes) {
  const r = count / minutes;
  return r === 0 || r >= 10 ? String(Math.round(r)) : r.toFixed(r < 1 ? 2 : 1);
}

function tile(label, value, id) {
  return h('div', { class: 'tile' }, h('p', { class: 'tile-label' }, label), h('p', { class: 'tile-value', id }, value));
}

// step rounds v up to 1, 2 or 5 times a power of ten, at least 1: the gap between
// axis ticks, a whole number of payments or of fen.
export function step(v) {
  if (!(v > 1)) return 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 5, 10]) if (f * mag >= v) return f * mag;
  return 10 * mag;
}

const W = 720;
const H = 240;
const M = { left: 64, right: 12, top: 12, bottom: 28 };

// barChart draws one bar per minute of metric ("count" or "amount", fen), with a
// y axis in its unit, time labels along the bottom and a tooltip on each bar.
function barChart(minutes, metric, title) {
  const l = lang();
  const n = minutes.length;
  const values = minutes.map((m) => m[metric]);
  const top = 4 * step(Math.max(0, ...values) / 4);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const y = (v) => M.top + ph - (v / top) * ph;
  const bw = pw / n;
  const label = (v) => (metric === 'amount' ? yuan(v) : String(v));
  const hhmm = (iso) => new Date(iso).toLocaleTimeString(l === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false });

  const parts = [];
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    parts.push(s('line', { class: 'grid', x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }));
    parts.push(s('text', { class: 'axis', x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, label(v)));
  }
  const every = Math.max(1, Math.ceil(n / 6));
  minutes.forEach((m, i) => {
    const v = values[i];
    const hgt = Math.max(v > 0 ? 1 : 0, (v / top) * ph);
    const bar = s('rect', { class: 'bar', x: M.left + i * bw + bw * 0.1, y: M.top + ph - hgt, width: Math.max(1, bw * 0.8), height: hgt,
      'data-count': m.count, 'data-amount': m.amount });
    bar.appendChild(s('title', null, t('dash.chartLabel', { time: hhmm(m.start), count: m.count, amount: yuan(m.amount) })));
    parts.push(bar);
    if (i % every === 0) {
      parts.push(s('text', { class: 'axis', x: M.left + i * bw + bw / 2, y: H - 8, 'text-anchor': 'middle' }, hhmm(m.start)));
    }
  });
  parts.push(s('line', { class: 'axis-line', x1: M.left, x2: W - M.right, y1: M.top + ph, y2: M.top + ph }));
  return s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, class: 'bars' }, parts);
}
