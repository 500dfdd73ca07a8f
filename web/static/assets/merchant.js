// The merchant portal (/merchant): a page on the public merchant API, signed in with
// the merchant's API key. The key lives in this tab's sessionStorage only, is sent
// to this server only (Authorization: Bearer), and is never shown again.
//
// What it shows: the settlement balance; the merchant's orders, newest first, by
// status and China day, a page at a time (GET /v1/merchant/orders); an order found by
// its out_trade_no or opened from the list, with a refund form; webhook deliveries,
// with replay; and the daily bill as a CSV download.

import { h } from './dom.js';

const KEY = 'hebao.merchant.key'; // sessionStorage
const LANG = 'hebao.merchant.lang'; // localStorage
const PAGE = 20; // orders a page

// ---- words ------------------------------------------------------------------

const words = {
  zh: {
    brand: '荷包商户中心',
    signout: '退出',
    refresh: '刷新',
    more: '加载更多',
    'signin.title': '商户登录',
    'signin.help': '用创建商户时得到的 API 密钥（mk_…）登录。',
    'signin.key': 'API 密钥',
    'signin.submit': '登录',
    'signin.storage': '密钥只保存在本标签页中（sessionStorage），关闭标签页或退出后即清除。',
    'signin.empty': '请输入 API 密钥',
    'signin.expired': 'API 密钥无效或已失效，请重新登录',
    'balance.title': '结算余额',
    'balance.merchant': '商户号 {id}',
    'orders.title': '订单',
    'orders.no': '商户订单号',
    'orders.placeholder': '商户订单号 out_trade_no',
    'orders.search': '查询',
    'orders.empty': '请输入商户订单号',
    'orders.list': '订单列表',
    'orders.status': '状态',
    'orders.anyStatus': '全部',
    'orders.day': '下单日期（北京时间）',
    'orders.clear': '清除筛选',
    'orders.none': '暂无订单。',
    'orders.noneFiltered': '没有符合条件的订单。',
    'orders.shown': '已显示 {n} 笔',
    'col.no': '订单号',
    'col.subject': '商品',
    'col.amount': '金额',
    'col.status': '状态',
    'col.refunded': '已退款',
    'col.created': '创建时间',
    'col.paid': '支付时间',
    'col.method': '支付方式',
    'col.payer': '付款钱包',
    'col.id': '荷包订单号',
    'col.time': '时间',
    'col.event': '事件',
    'col.order': '订单',
    'col.delivery': '推送状态',
    'col.attempts': '次数',
    'col.response': '最近结果',
    open: '查看',
    'status.NOTPAY': '未支付',
    'status.USERPAYING': '等待用户确认',
    'status.SUCCESS': '支付成功',
    'status.REFUND': '已退款',
    'status.CLOSED': '已关闭',
    'method.balance': '余额',
    'method.password_free': '免密支付',
    'method.card': '银行卡',
    'refund.title': '退款',
    'refund.left': '可退 {amount}',
    'refund.amount': '退款金额（元）',
    'refund.reason': '退款原因（选填）',
    'refund.submit': '退款',
    'refund.done': '已退款 {amount}（退款单号 {no}）',
    'refund.processing': '退款处理中 {amount}（退款单号 {no}）：退回银行卡，等待银行确认',
    'refund.none': '此订单没有可退金额。',
    'amount.empty': '请输入金额',
    'amount.format': '金额格式不对，例如 12.34',
    'amount.zero': '金额必须大于 0',
    'amount.large': '金额太大',
    'amount.over': '最多可退 {amount}',
    'reason.long': '原因最多 80 个字',
    'webhooks.title': 'Webhook 推送记录',
    'webhook.delivered': '已送达',
    'webhook.pending': '待重试',
    'webhook.failed': '已放弃',
    'webhook.replay': '重新推送',
    'webhook.replayed': '已安排立即重新推送 {id}',
    'webhook.none': '暂无推送记录。',
    'webhook.next': '下次 {time}',
    'bills.title': '对账单下载',
    'bills.help': '每个自然日（北京时间）的收款与退款明细 CSV，次日（T+1）起可下载，末行为 SHA-256 校验。',
    'bills.date': '日期',
    'bills.download': '下载 CSV',
    'bills.empty': '请选择日期',
    'bills.saved': '已下载 {file}',
    'error.network': '网络错误，请稍后重试',
    'error.unauthenticated': 'API 密钥无效',
    'error.not_found': '未找到',
    'error.invalid_request': '请求有误',
    'error.refund_exceeds_paid': '超出可退金额',
    'error.insufficient_funds': '结算余额不足',
    'error.limit_exceeded': '超出限制',
    'error.idempotency_key_reused': '单号已被使用',
    'error.conflict': '暂时无法完成',
    'error.unavailable': '服务暂不可用',
    'error.unknown': '出错了',
  },
  en: {
    brand: 'Hebao merchant portal',
    signout: 'Sign out',
    refresh: 'Refresh',
    more: 'Load more',
    'signin.title': 'Merchant sign-in',
    'signin.help': 'Sign in with the API key (mk_…) you were given when the merchant was created.',
    'signin.key': 'API key',
    'signin.submit': 'Sign in',
    'signin.storage': 'The key is kept in this tab only (sessionStorage) and forgotten when you close it or sign out.',
    'signin.empty': 'Enter the API key',
    'signin.expired': 'The API key is not valid any more: sign in again',
    'balance.title': 'Settlement balance',
    'balance.merchant': 'Merchant {id}',
    'orders.title': 'Orders',
    'orders.no': 'Order number',
    'orders.placeholder': 'Your order number (out_trade_no)',
    'orders.search': 'Search',
    'orders.empty': 'Enter an order number',
    'orders.list': 'All orders',
    'orders.status': 'Status',
    'orders.anyStatus': 'Any',
    'orders.day': 'Created on (Beijing time)',
    'orders.clear': 'Clear filters',
    'orders.none': 'No orders yet.',
    'orders.noneFiltered': 'No orders match.',
    'orders.shown': '{n} shown',
    'col.no': 'Order number',
    'col.subject': 'Subject',
    'col.amount': 'Amount',
    'col.status': 'Status',
    'col.refunded': 'Refunded',
    'col.created': 'Created',
    'col.paid': 'Paid',
    'col.method': 'Paid with',
    'col.payer': 'Paying wallet',
    'col.id': 'Hebao order id',
    'col.time': 'Time',
    'col.event': 'Event',
    'col.order': 'Order',
    'col.delivery': 'Delivery',
    'col.attempts': 'Attempts',
    'col.response': 'Last result',
    open: 'Open',
    'status.NOTPAY': 'Not paid',
    'status.USERPAYING': 'Waiting for the customer',
    'status.SUCCESS': 'Paid',
    'status.REFUND': 'Refunded',
    'status.CLOSED': 'Closed',
    'method.balance': 'Balance',
    'method.password_free': 'Password-free',
    'method.card': 'Bank card',
    'refund.title': 'Refund',
    'refund.left': '{amount} left to refund',
    'refund.amount': 'Amount (yuan)',
    'refund.reason': 'Reason (optional)',
    'refund.submit': 'Refund',
    'refund.done': 'Refunded {amount} (refund {no})',
    'refund.processing': 'Refund of {amount} in progress (refund {no}): back to the card, waiting for the bank',
    'refund.none': 'Nothing of this order is left to refund.',
    'amount.empty': 'Enter an amount',
    'amount.format': 'Write the amount like 12.34',
    'amount.zero': 'The amount must be more than 0',
    'amount.large': 'The amount is too large',
    'amount.over': 'At most {amount} can be refunded',
    'reason.long': 'The reason can be at most 80 characters',
    'webhooks.title': 'Webhook deliveries',
    'webhook.delivered': 'Delivered',
    'webhook.pending': 'Will retry',
    'webhook.failed': 'Given up',
    'webhook.replay': 'Replay',
    'webhook.replayed': '{id} will be sent again now',
    'webhook.none': 'No deliveries yet.',
    'webhook.next': 'next {time}',
    'bills.title': 'Daily bills',
    'bills.help': 'A CSV of the payments and refunds of one China day (Beijing time), ready the next day (T+1); its last line is a SHA-256 digest.',
    'bills.date': 'Date',
    'bills.download': 'Download CSV',
    'bills.empty': 'Choose a date',
    'bills.saved': 'Downloaded {file}',
    'error.network': 'Network error: try again in a moment',
    'error.unauthenticated': 'The API key is not valid',
    'error.not_found': 'Not found',
    'error.invalid_request': 'Invalid request',
    'error.refund_exceeds_paid': 'More than is left to refund',
    'error.insufficient_funds': 'Settlement balance too low',
    'error.limit_exceeded': 'Over a limit',
    'error.idempotency_key_reused': 'That number was used already',
    'error.conflict': 'Not possible yet',
    'error.unavailable': 'Unavailable',
    'error.unknown': 'Something went wrong',
  },
};

let lang = localStorage.getItem(LANG) === 'en' ? 'en' : 'zh';

// t returns the words for key in the current language, with {name} filled from vars.
function t(key, vars = {}) {
  const s = words[lang][key] ?? words.zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

// ---- the API ----------------------------------------------------------------

// ApiError is a problem document from the API (or code "network" for no answer).
class ApiError extends Error {
  constructor(status, p) {
    super((p && p.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = (p && p.code) || (status === 0 ? 'network' : 'unknown');
    this.detail = (p && p.detail) || '';
  }
}

const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(k) { if (k) sessionStorage.setItem(KEY, k); else sessionStorage.removeItem(KEY); },
};

// request calls the merchant API with the key and returns the Response if it is 2xx;
// otherwise it throws ApiError. A 401 ends the session.
async function request(method, path, body, key = session.key) {
  const headers = { Authorization: 'Bearer ' + key };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  }
  if (resp.ok) return resp;
  let p = null;
  try { p = await resp.json(); } catch { /* not JSON */ }
  const err = new ApiError(resp.status, p);
  if (resp.status === 401 && key === session.key) signedOut(t('signin.expired'));
  throw err;
}

async function api(method, path, body) {
  const resp = await request(method, path, body);
  return resp.status === 204 ? null : resp.json();
}

// problem puts err into el: a short summary in the reader's language and the API's
// own detail.
function problem(el, err) {
  const code = err instanceof ApiError ? err.code : 'unknown';
  const summary = words[lang]['error.' + code] ? t('error.' + code) : t('error.unknown');
  const detail = err instanceof ApiError ? err.detail : '';
  el.textContent = detail ? `${summary}${lang === 'zh' ? '：' : ': '}${detail}` : summary;
  el.hidden = false;
  if (!(err instanceof ApiError)) console.warn(err);
}

// ---- money, time and the DOM --------------------------------------------------

// parseYuan turns "12.34" into 1234 fen, as strictly as the server: digits, at most
// two decimals, no sign. It returns {fen} or {error: <words key>}.
function parseYuan(input) {
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
function cny(fen) {
  const n = Number(fen);
  if (!Number.isSafeInteger(n)) return '—';
  const digits = String(Math.abs(n)).padStart(3, '0');
  const whole = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (n < 0 ? '-¥' : '¥') + whole + '.' + digits.slice(-2);
}

function plainYuan(fen) {
  return cny(fen).replace(/[¥,]/g, '');
}

// when shows an RFC 3339 time in China time, as bills count days.
function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

// chinaDate is the China day of d, YYYY-MM-DD.
function chinaDate(d) {
  return new Date(d.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

const $ = (id) => document.getElementById(id);

function hide(...els) {
  for (const el of els) el.hidden = true;
}

function statusBadge(status) {
  return h('span', { class: 'badge s-' + String(status).toLowerCase() }, t('status.' + status));
}

// randomNo is a fresh refund number: R, the China date, and 8 random characters.
function randomNo(prefix) {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const tail = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
  return `${prefix}${chinaDate(new Date()).replaceAll('-', '')}-${tail}`;
}

// ---- what the page knows ------------------------------------------------------

const state = {
  merchant: null, // {merchant_id, name, balance}
  order: null, // the order shown in detail
  refundNote: null, // {key, vars} of the last refund made here
  pendingRefund: null, // {sig, no}: a refund sent without an answer, to send again the same
  deliveries: [],
  nextCursor: null,
  orders: [], // the order list's pages so far, newest first
  ordersNext: null, // its next_cursor
  ordersLoaded: false,
  ordersSeq: 0, // the latest list request: answers to older ones are dropped
};

// ---- sign in and out -----------------------------------------------------------

function signedOut(message) {
  session.key = null;
  // Nothing of this merchant's stays on the page for the next key.
  Object.assign(state, { merchant: null, order: null, refundNote: null, pendingRefund: null, deliveries: [], nextCursor: null,
    orders: [], ordersNext: null, ordersLoaded: false });
  state.ordersSeq++;
  $('portal').hidden = true;
  $('signout').hidden = true;
  $('who').textContent = '';
  $('signin').hidden = false;
  const err = $('signin-error');
  if (message) {
    err.textContent = message;
    err.hidden = false;
  }
}

async function signIn(ev) {
  ev.preventDefault();
  const err = $('signin-error');
  hide(err);
  const key = $('key').value.trim();
  if (!key) {
    err.textContent = t('signin.empty');
    err.hidden = false;
    return;
  }
  try {
    const resp = await request('GET', '/v1/merchant/balance', undefined, key);
    state.merchant = await resp.json();
  } catch (e) {
    problem(err, e);
    return;
  }
  session.key = key;
  $('key').value = '';
  showPortal();
}

function showPortal() {
  $('signin').hidden = true;
  $('portal').hidden = false;
  $('signout').hidden = false;
  renderBalance();
  loadOrders(false);
  loadDeliveries(true);
}

// ---- balance -----------------------------------------------------------------

async function loadBalance() {
  try {
    state.merchant = await api('GET', '/v1/merchant/balance');
    renderBalance();
  } catch (e) {
    if (e.status !== 401) problem($('search-error'), e);
  }
}

function renderBalance() {
  const m = state.merchant;
  if (!m) return;
  $('who').textContent = m.name;
  $('balance').textContent = cny(m.balance);
  $('merchant-id').textContent = t('balance.merchant', { id: m.merchant_id });
}

// ---- orders ------------------------------------------------------------------

async function search(ev) {
  ev.preventDefault();
  const no = $('search-no').value.trim();
  hide($('search-error'));
  if (!no) {
    problemText($('search-error'), t('orders.empty'));
    return;
  }
  await openOrder(no);
}

function problemText(el, text) {
  el.textContent = text;
  el.hidden = false;
}

async function openOrder(no) {
  hide($('search-error'));
  state.refundNote = null;
  try {
    state.order = await api('GET', '/v1/merchant/orders/' + encodeURIComponent(no));
  } catch (e) {
    state.order = null;
    renderOrder();
    renderOrders();
    problem($('search-error'), e);
    return;
  }
  $('search-no').value = state.order.out_trade_no;
  renderOrder();
  updateListed(state.order);
}

function renderOrder() {
  const box = $('order-detail');
  box.replaceChildren();
  const o = state.order;
  if (!o) return;
  const rows = [
    ['col.no', o.out_trade_no],
    ['col.subject', o.subject],
    ['col.amount', cny(o.amount)],
    ['col.status', statusBadge(o.status)],
    ['col.refunded', cny(o.refunded)],
    ['col.created', when(o.created_at)],
    o.paid_at && ['col.paid', when(o.paid_at)],
    o.method && ['col.method', words[lang]['method.' + o.method] ? t('method.' + o.method) : o.method],
    o.payer_wallet_id && ['col.payer', o.payer_wallet_id],
    ['col.id', o.id],
  ].filter(Boolean);
  box.append(h('dl', { class: 'detail', id: 'order', 'data-status': o.status },
    rows.map(([k, v]) => [h('dt', null, t(k)), h('dd', null, v)])));

  const paid = o.status === 'SUCCESS' || o.status === 'REFUND';
  if (!paid) return;
  const left = o.amount - o.refunded;
  const refund = h('section', { class: 'refund' }, h('h3', null, t('refund.title')));
  if (left <= 0) {
    refund.append(h('p', { class: 'muted' }, t('refund.none')));
  } else {
    refund.append(
      h('p', { class: 'muted small' }, t('refund.left', { amount: cny(left) })),
      h('form', { id: 'refund-form', class: 'grid', novalidate: true, onsubmit: (ev) => doRefund(ev, o) },
        h('label', { for: 'refund-amount' }, t('refund.amount')),
        h('input', { id: 'refund-amount', name: 'amount', inputmode: 'decimal', autocomplete: 'off', value: plainYuan(left) }),
        h('label', { for: 'refund-reason' }, t('refund.reason')),
        h('input', { id: 'refund-reason', name: 'reason', maxlength: 80, autocomplete: 'off' }),
        h('span'),
        h('button', { type: 'submit', class: 'danger', id: 'refund-submit' }, t('refund.submit'))));
  }
  refund.append(h('p', { id: 'refund-error', class: 'error', role: 'alert', hidden: true }));
  if (state.refundNote) refund.append(h('p', { id: 'refund-note', class: 'ok', role: 'status' }, t(state.refundNote.key, state.refundNote.vars)));
  box.append(refund);
}

async function doRefund(ev, o) {
  ev.preventDefault();
  const err = $('refund-error');
  hide(err);
  state.refundNote = null;
  $('refund-note')?.remove();
  const amount = parseYuan($('refund-amount').value);
  if (amount.error) return problemText(err, t(amount.error));
  if (amount.fen > o.amount - o.refunded) return problemText(err, t('amount.over', { amount: cny(o.amount - o.refunded) }));
  const reason = $('refund-reason').value.trim();
  if ([...reason].length > 80) return problemText(err, t('reason.long'));

  // The same refund sent again after no answer keeps its number, so that it is
  // made once however often it is sent (out_refund_no is the idempotency key).
  const sig = JSON.stringify([o.out_trade_no, amount.fen, reason]);
  if (!state.pendingRefund || state.pendingRefund.sig !== sig) state.pendingRefund = { sig, no: randomNo('R') };
  const no = state.pendingRefund.no;
  const button = $('refund-submit');
  button.disabled = true;
  let rf;
  try {
    rf = await api('POST', '/v1/merchant/refunds', { out_trade_no: o.out_trade_no, out_refund_no: no, amount: amount.fen, ...(reason ? { reason } : {}) });
  } catch (e) {
    if (e.code !== 'network') state.pendingRefund = null;
    button.disabled = false;
    if (e.code === 'refund_exceeds_paid') {
      // Someone refunded it meanwhile: show what is left now, and why this failed.
      try {
        state.order = await api('GET', '/v1/merchant/orders/' + encodeURIComponent(o.out_trade_no));
        renderOrder();
        updateListed(state.order);
      } catch { /* keep the order as it was shown */ }
    }
    problem($('refund-error'), e);
    return;
  }
  state.pendingRefund = null;
  state.order = rf.order;
  state.refundNote = { key: rf.status === 'PROCESSING' ? 'refund.processing' : 'refund.done', vars: { amount: cny(rf.amount), no: rf.out_refund_no } };
  renderOrder();
  updateListed(rf.order);
  loadBalance();
  setTimeout(() => loadDeliveries(true), 1000); // the refund.succeeded webhook, if any
}

// loadOrders loads the first page of the order list with the filters chosen, or,
// with more, the next page after those shown.
async function loadOrders(more) {
  const err = $('orders-error');
  hide(err);
  if (more && !state.ordersNext) return;
  const q = new URLSearchParams({ limit: String(PAGE) });
  const status = $('filter-status').value;
  const date = $('filter-date').value;
  if (status) q.set('status', status);
  if (date) q.set('date', date);
  if (more) q.set('cursor', state.ordersNext);
  const seq = ++state.ordersSeq;
  $('orders-more').disabled = true;
  let page;
  try {
    page = await api('GET', '/v1/merchant/orders?' + q);
  } catch (e) {
    if (seq !== state.ordersSeq) return;
    if (!more) {
      state.orders = [];
      state.ordersNext = null;
    }
    renderOrders();
    if (e.status !== 401) problem(err, e);
    return;
  }
  if (seq !== state.ordersSeq) return; // the filters changed meanwhile
  state.orders = more ? [...state.orders, ...page.items] : page.items;
  state.ordersNext = page.next_cursor;
  state.ordersLoaded = true;
  renderOrders();
}

// updateListed shows o's new state in its row, if the list holds it.
function updateListed(o) {
  state.orders = state.orders.map((x) => (x.out_trade_no === o.out_trade_no ? o : x));
  renderOrders();
}

function renderOrders() {
  const table = $('orders');
  table.replaceChildren();
  const more = $('orders-more');
  more.hidden = !state.ordersNext;
  more.disabled = false;
  $('orders-count').textContent = state.orders.length ? t('orders.shown', { n: state.orders.length }) : '';
  if (!state.ordersLoaded) return;
  if (state.orders.length === 0) {
    const filtered = $('filter-status').value || $('filter-date').value;
    table.append(h('tbody', null, h('tr', null, h('td', { class: 'muted' }, t(filtered ? 'orders.noneFiltered' : 'orders.none')))));
    return;
  }
  const open = state.order && state.order.out_trade_no;
  // On a phone the subject, refunded and created columns fold away; the time shows
  // under the number instead.
  const cols = [['col.no'], ['col.subject', 'wide'], ['col.amount', 'num'], ['col.status'], ['col.refunded', 'num wide'], ['col.created', 'wide']];
  table.append(
    h('thead', null, h('tr', null, cols.map(([k, cls]) => h('th', { class: cls }, t(k))))),
    h('tbody', null, state.orders.map((o) => h('tr', { 'data-no': o.out_trade_no, 'data-status': o.status, class: o.out_trade_no === open ? 'sel' : null },
      h('td', null,
        h('button', { type: 'button', class: 'link mono', title: t('open'), onclick: () => openOrder(o.out_trade_no).then(() => $('order-detail').scrollIntoView({ block: 'nearest' })) }, o.out_trade_no),
        h('span', { class: 'muted small phone-only' }, when(o.created_at))),
      h('td', { class: 'wide' }, o.subject),
      h('td', { class: 'num' }, cny(o.amount)),
      h('td', null, statusBadge(o.status)),
      h('td', { class: 'num wide' }, o.refunded ? cny(o.refunded) : ''),
      h('td', { class: 'wide' }, when(o.created_at))))));
}

// ---- webhook deliveries ---------------------------------------------------------

function orderNoOf(d) {
  const data = d.payload && d.payload.data;
  return data && typeof data.out_trade_no === 'string' ? data.out_trade_no : '';
}

async function loadDeliveries(first) {
  hide($('webhooks-error'));
  const q = new URLSearchParams({ limit: '20' });
  if (!first && state.nextCursor) q.set('cursor', state.nextCursor);
  try {
    const page = await api('GET', '/v1/merchant/webhook-deliveries?' + q);
    state.deliveries = first ? page.items : [...state.deliveries, ...page.items];
    state.nextCursor = page.next_cursor;
  } catch (e) {
    if (e.status !== 401) problem($('webhooks-error'), e);
  }
  renderDeliveries();
}

function renderDeliveries() {
  const table = $('webhooks');
  table.replaceChildren();
  $('webhooks-more').hidden = !state.nextCursor;
  if (state.deliveries.length === 0) {
    table.append(h('tbody', null, h('tr', null, h('td', { class: 'muted' }, t('webhook.none')))));
    return;
  }
  table.append(
    h('thead', null, h('tr', null, ['col.time', 'col.event', 'col.order', 'col.delivery', 'col.attempts', 'col.response', ''].map((k) => h('th', null, k ? t(k) : '')))),
    h('tbody', null, state.deliveries.map((d) => {
      const result = d.last_status ? 'HTTP ' + d.last_status : d.last_error || '';
      return h('tr', { 'data-id': d.id, 'data-status': d.status, 'data-event': d.event_type, 'data-no': orderNoOf(d) },
        h('td', null, when(d.created_at)),
        h('td', { class: 'mono' }, d.event_type),
        h('td', { class: 'mono' }, orderNoOf(d)),
        h('td', null, h('span', { class: 'badge w-' + d.status }, t('webhook.' + d.status)),
          d.status === 'pending' && d.next_attempt_at ? h('span', { class: 'muted small block' }, t('webhook.next', { time: when(d.next_attempt_at) })) : null),
        h('td', { class: 'num' }, d.attempts),
        h('td', { class: 'small clip', title: result }, result),
        h('td', null, h('button', { type: 'button', class: 'link', onclick: (ev) => replay(ev, d) }, t('webhook.replay'))));
    })));
}

async function replay(ev, d) {
  ev.target.disabled = true;
  hide($('webhooks-error'), $('webhooks-note'));
  try {
    const again = await api('POST', `/v1/merchant/webhook-deliveries/${encodeURIComponent(d.id)}/replay`);
    state.deliveries = state.deliveries.map((x) => (x.id === again.id ? again : x));
    renderDeliveries();
    problemText($('webhooks-note'), t('webhook.replayed', { id: again.id }));
    // Sent at once in the background: show the outcome a moment later.
    setTimeout(() => loadDeliveries(true), 1500);
  } catch (e) {
    ev.target.disabled = false;
    if (e.status !== 401) problem($('webhooks-error'), e);
  }
}

// ---- bills ---------------------------------------------------------------------

async function downloadBill(ev) {
  ev.preventDefault();
  const err = $('bill-error');
  hide(err, $('bill-note'));
  const date = $('bill-date').value;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return problemText(err, t('bills.empty'));
  let resp;
  try {
    resp = await request('GET', '/v1/merchant/bills/' + date);
  } catch (e) {
    if (e.status !== 401) problem(err, e);
    return;
  }
  const blob = await resp.blob();
  const m = /filename="([^"]+)"/.exec(resp.headers.get('Content-Disposition') || '');
  const file = m ? m[1] : `hebao-bill-${date}.csv`;
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: file, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  problemText($('bill-note'), t('bills.saved', { file }));
}

// ---- language ------------------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.title = lang === 'en' ? 'Hebao merchant portal' : '荷包商户中心';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  const sw = $('lang');
  sw.textContent = lang === 'en' ? '中文' : 'English';
  sw.lang = lang === 'en' ? 'zh-CN' : 'en';
  renderBalance();
  renderOrder();
  renderOrders();
  renderDeliveries();
}

// ---- start ---------------------------------------------------------------------

function start() {
  $('lang').addEventListener('click', () => {
    lang = lang === 'en' ? 'zh' : 'en';
    localStorage.setItem(LANG, lang);
    applyLanguage();
  });
  $('signout').addEventListener('click', () => signedOut());
  $('signin-form').addEventListener('submit', signIn);
  $('search-form').addEventListener('submit', search);
  $('balance-refresh').addEventListener('click', loadBalance);
  $('orders-refresh').addEventListener('click', () => loadOrders(false));
  $('orders-more').addEventListener('click', () => loadOrders(true));
  $('filter-status').addEventListener('change', () => loadOrders(false));
  $('filter-date').addEventListener('change', () => loadOrders(false));
  $('filter-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadOrders(false);
  });
  $('filter-clear').addEventListener('click', () => {
    $('filter-status').value = '';
    $('filter-date').value = '';
    loadOrders(false);
  });
  $('webhooks-refresh').addEventListener('click', () => loadDeliveries(true));
  $('webhooks-more').addEventListener('click', () => loadDeliveries(false));
  $('bill-form').addEventListener('submit', downloadBill);
  // Yesterday in China time: the latest day whose bill is ready.
  $('bill-date').value = chinaDate(new Date(Date.now() - 24 * 3600 * 1000));
  $('bill-date').max = chinaDate(new Date());
  $('filter-date').max = chinaDate(new Date());

  applyLanguage();
  if (!session.key) {
    signedOut();
    return;
  }
  api('GET', '/v1/merchant/balance').then((m) => {
    state.merchant = m;
    showPortal();
  }, (e) => {
    if (e.status === 401) return; // request signed out, saying why
    $('signin').hidden = false;
    problem($('signin-error'), e);
  });
}

start();
