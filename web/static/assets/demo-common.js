// What the demo shop's and the demo till's pages share: words in two languages,
// money, a little DOM building, and calls to the shop's own server (/demo/…/api),
// which alone holds the merchant API key and the webhook secret.

const LANG = 'hebao.demo.lang';

export let lang = localStorage.getItem(LANG) === 'en' ? 'en' : 'zh';

let words = { zh: {}, en: {} };

const common = {
  zh: {
    'demo.label': '开发演示 · DEV DEMO',
    'demo.banner': '这是一个假想的商店，只在 hebao serve --dev 下运行，不涉及真实资金。它的服务端像真实商户一样调用荷包的商户 API、接收并验签 Webhook；浏览器看不到 API 密钥和 Webhook 密钥。',
    'demo.switch': 'English',
    'amount.empty': '请输入金额',
    'amount.format': '金额格式不对，例如 12.34',
    'amount.zero': '金额必须大于 0',
    'amount.large': '金额太大',
    'error.network': '网络错误，请稍后重试',
    'error.unknown': '出错了',
  },
  en: {
    'demo.label': 'Development demo',
    'demo.banner': 'A pretend shop that runs only under hebao serve --dev, with no real money. Its server calls Hebao\'s merchant API and receives and verifies signed webhooks, as a real shop would; this browser never sees the API key or the webhook secret.',
    'demo.switch': '中文',
    'amount.empty': 'Enter an amount',
    'amount.format': 'Write the amount like 12.34',
    'amount.zero': 'The amount must be more than 0',
    'amount.large': 'The amount is too large',
    'error.network': 'Network error: try again in a moment',
    'error.unknown': 'Something went wrong',
  },
};

// setWords adds a page's own words to the common ones.
export function setWords(page) {
  words = { zh: { ...common.zh, ...page.zh }, en: { ...common.en, ...page.en } };
}

// t returns the words for key in the current language, with {name} filled from vars.
export function t(key, vars = {}) {
  const s = words[lang][key] ?? words.zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

// startLanguage fills the page's data-i18n elements and wires the switch; render
// redraws what the script drew.
export function startLanguage(render) {
  const apply = () => {
    document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
    const sw = document.getElementById('lang');
    sw.textContent = t('demo.switch');
    sw.lang = lang === 'en' ? 'zh-CN' : 'en';
    if (words[lang].title) document.title = t('title');
    render();
  };
  document.getElementById('lang').addEventListener('click', () => {
    lang = lang === 'en' ? 'zh' : 'en';
    localStorage.setItem(LANG, lang);
    apply();
  });
  apply();
}

// DemoError is a problem document from the shop's server, which passes Hebao's own
// on (code, detail), or a network failure (code "network").
export class DemoError extends Error {
  constructor(status, p) {
    super((p && p.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = (p && p.code) || (status === 0 ? 'network' : 'unknown');
    this.detail = (p && p.detail) || '';
  }
}

// call sends JSON to the shop's server and returns its JSON answer.
export async function call(method, path, body) {
  let resp;
  try {
    resp = await fetch(path, {
      method, cache: 'no-store',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new DemoError(0, null);
  }
  let data = null;
  try { data = await resp.json(); } catch { /* no body */ }
  if (!resp.ok) throw new DemoError(resp.status, data);
  return data;
}

// explain is the words for an error: the page's summary for its code, and the
// detail Hebao (or the shop) gave.
export function explain(err) {
  const code = err instanceof DemoError ? err.code : 'unknown';
  const summary = words[lang]['error.' + code] ? t('error.' + code) : t('error.unknown');
  const detail = err instanceof DemoError ? err.detail : '';
  if (!(err instanceof DemoError)) console.warn(err);
  return detail ? `${summary}${lang === 'zh' ? '：' : ': '}${detail}` : summary;
}

// parseYuan turns "12.34" into 1234 fen as strictly as the server: digits, at most
// two decimals, no sign. It returns {fen} or {error: <words key>}.
export function parseYuan(input) {
  const s = String(input ?? '').trim().replace(/^¥/, '');
  if (s === '') return { error: 'amount.empty' };
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m || (m[1].length > 1 && m[1][0] === '0')) return { error: 'amount.format' };
  if (m[1].length > 10) return { error: 'amount.large' };
  const fen = Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
  if (fen <= 0) return { error: 'amount.zero' };
  return { fen };
}

// cny formats fen as ¥1,234.50.
export function cny(fen) {
  const n = Number(fen);
  if (!Number.isSafeInteger(n)) return '—';
  const digits = String(Math.abs(n)).padStart(3, '0');
  const whole = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (n < 0 ? '-¥' : '¥') + whole + '.' + digits.slice(-2);
}

// h builds an element (dom.js, shared with the wallet app); strings become text
// nodes, never HTML.
export { h } from './dom.js';

// here turns a URL Hebao gave (qr_url, pay link) into the same path on this page's
// origin. The demo runs inside the Hebao server, and Hebao builds those URLs from
// its --public-url, which need not be the address this browser used; the page's
// Content-Security-Policy also loads images from its own origin only.
export function here(url) {
  try {
    const u = new URL(url, location.href);
    return u.pathname + u.search;
  } catch {
    return '';
  }
}
