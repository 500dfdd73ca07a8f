// DOM building for the staff console: h('p', {class: 'x', onclick: f}, 'text', child).
// Strings always become text nodes, so nothing the API returns is parsed as HTML.

// h and fill are the wallet app's (dom.js).
import { h, fill } from './dom.js';

export { h, fill };

// s builds an SVG element the way h builds an HTML one.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(el, attrs);
  add(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
}

function add(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) add(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// yuan shows fen as ¥1,234.56; negative amounts keep their sign before the ¥.
export function yuan(fen) {
  if (typeof fen !== 'number' || !Number.isFinite(fen)) return '—';
  const neg = fen < 0;
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100).toLocaleString('en-US');
  const cents = String(abs % 100).padStart(2, '0');
  return (neg ? '-' : '') + '¥' + whole + '.' + cents;
}

// parseYuan reads what a person typed ("12", "12.3", "12.34") as fen, strictly:
// null for anything else, so a typo is never taken for an amount.
export function parseYuan(text) {
  const m = /^\s*(\d{1,10})(?:\.(\d{1,2}))?\s*$/.exec(text || '');
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || '0').padEnd(2, '0'));
}

// when shows an RFC 3339 time in the reader's zone.
export function when(iso, lang, withSeconds) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '—';
  const opts = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false };
  if (withSeconds) opts.second = '2-digit';
  return d.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', opts);
}

// field is a labelled form control.
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control, hint ? h('small', { class: 'hint' }, hint) : null);
}
