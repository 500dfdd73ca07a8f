// Words of the wallet app in Simplified Chinese (the default) and English. The
// choice is kept in localStorage. t('key', {var}) fills {var} in the text.

import { zh, en } from './strings.js';

const KEY = 'hebao.lang';
const tables = { zh, en };
const listeners = new Set();
let current = localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';

export function lang() {
  return current;
}

export function setLang(l) {
  if (!tables[l] || l === current) return;
  current = l;
  localStorage.setItem(KEY, l);
  for (const f of listeners) f(l);
}

export function onLangChange(f) {
  listeners.add(f);
}

// t returns the text for key in the current language (Chinese when the English
// table lacks it), with {name} replaced from vars. A missing key gives fallback
// when one is passed, else the key itself.
export function t(key, vars = {}, fallback) {
  let s = tables[current][key] ?? tables.zh[key];
  if (s === undefined) return fallback !== undefined ? fallback : key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll('{' + k + '}', String(v));
  return s;
}
