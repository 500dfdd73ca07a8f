// The Hebao wallet app: a hash router over the screens, the header and tab bar, the
// development SMS banner and the live notifications. Plain ES modules, no build step.

import { h, fill, maskPhone } from './dom.js';
import { t, lang, setLang, onLangChange } from './i18n.js';
import { api, session, onSignedOut, valid } from './api.js';
import { connect } from './events.js';
import { cny } from './money.js';
import { toast } from './ui.js';
import { notificationTitle } from './labels.js';
import * as auth from './screens/auth.js';
import * as open from './screens/open.js';
import * as home from './screens/home.js';
import * as pay from './screens/pay.js';
import * as paycode from './screens/paycode.js';
import * as move from './screens/move.js';
import * as cards from './screens/cards.js';
import * as rewards from './screens/rewards.js';
import * as hist from './screens/history.js';
import * as settings from './screens/settings.js';
import * as help from './screens/help.js';
import * as support from './screens/support.js';
import { icon } from './icons.js';

const routes = [
  ['welcome', auth.welcome, true],
  ['signup', auth.signup, true],
  ['signin', auth.signin, true],
  ['lost', auth.lost, true],
  ['help', help.render, true],
  ['', home.render],
  ['open', open.render],
  ['scan', pay.scan],
  ['pay/:id', pay.order],
  ['code', paycode.render],
  ['transfer', move.transfer],
  ['topup', move.topup],
  ['withdraw', move.withdraw],
  ['cards', cards.render],
  ['rewards', rewards.render],
  ['history', hist.list],
  ['tx/:id', hist.detail],
  ['inbox', hist.inbox],
  ['settings', settings.render],
  ['tickets', support.list],
  ['tickets/new', support.create],
  ['tickets/:id', support.thread],
];

const tabs = [
  ['', 'tab.home', 'home'],
  ['scan', 'tab.pay', 'scan'],
  ['code', 'tab.code', 'code'],
  ['history', 'tab.history', 'history'],
  ['settings', 'tab.me', 'me'],
];

// app is what screens share: the wallet, the notifications, the dev flag.
export const app = {
  dev: false,
  smsPhone: '', // the phone the dev banner shows codes for
  notifications: [],
  unread: 0,
  listeners: new Set(),
  // onNotification subscribes f to live notifications until the screen changes.
  onNotification(f) {
    this.listeners.add(f);
    screenCleanups.push(() => this.listeners.delete(f));
  },
  // onLeave runs f when the screen changes.
  onLeave(f) { screenCleanups.push(f); },
  go(route) { location.hash = '#/' + route; },
  refreshChrome: () => {},
  pollSMS: () => {},
};

let screenCleanups = [];
let stopEvents = null;

function match(path) {
  for (const [pattern, render, open] of routes) {
    const ps = pattern.split('/'), xs = path.split('/');
    if (ps.length !== xs.length) continue;
    const params = {};
    if (ps.every((p, i) => (p.startsWith(':') ? (params[p.slice(1)] = decodeURIComponent(xs[i]), true) : p === xs[i]))) {
      return { pattern, render, open, params };
    }
  }
  return null;
}

async function route() {
  for (const f of screenCleanups.splice(0)) {
    try { f(); } catch (e) { console.warn(e); }
  }
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  const m = match(path) || match('');
  if (session.token && ['welcome', 'signup', 'signin'].includes(m.pattern)) {
    location.replace('#/');
    return;
  }
  if (!m.open && !session.token) {
    if (path) sessionStorage.setItem('hebao.next', path);
    location.replace('#/welcome');
    return;
  }
  const view = document.getElementById('view');
  view.replaceChildren();
  view.dataset.screen = m.pattern || 'home';
  drawTabs(m.pattern);
  window.scrollTo(0, 0);
  try {
    await m.render({ view, params: m.params, app });
  } catch (e) {
    if (e?.name === 'AbortError') return;
    fill(view, h('div', { class: 'error', role: 'alert' }, h('p', { class: 'error-main' }, e?.detail || e?.message || String(e))));
  }
}

function drawTabs(active) {
  const nav = document.getElementById('tabs');
  nav.hidden = !session.token;
  fill(nav, ...tabs.map(([r, key, ic]) => h('a', { href: '#/' + r, class: r === active ? 'tab on' : 'tab', 'aria-current': r === active ? 'page' : false },
    icon(ic, 'tab-icon'), h('span', null, t(key)))));
}

function drawHeader() {
  const head = document.getElementById('top');
  const bell = session.token
    ? h('a', { href: '#/inbox', class: 'bell', id: 'bell', 'aria-label': t('inbox.title') }, icon('bell'), app.unread ? h('span', { class: 'badge' }, String(app.unread)) : null)
    : null;
  fill(head,
    h('a', { href: '#/', class: 'brand' }, h('img', { src: '/assets/icon.svg', alt: '', width: 28, height: 28 }), h('span', null, t('brand'))),
    h('span', { class: 'live', id: 'live', hidden: true, title: t('live.on') }, '●'),
    bell,
    h('button', { type: 'button', class: 'lang', id: 'lang', onclick: () => setLang(lang() === 'zh' ? 'en' : 'zh') }, t('lang.switch')));
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  document.title = t('brand');
}

app.refreshChrome = () => { drawHeader(); drawTabs(document.getElementById('view').dataset.screen === 'home' ? '' : document.getElementById('view').dataset.screen); };

// ---- live notifications ----

function startEvents() {
  stopEvents?.();
  if (!session.token) return;
  stopEvents = connect((n) => {
    app.notifications.unshift(n);
    app.unread++;
    drawHeader();
    showLive(n);
    for (const f of app.listeners) f(n);
  }, (state) => {
    const live = document.getElementById('live');
    if (live) live.hidden = state !== 'open';
    document.body.dataset.live = state;
  });
}

function showLive(n) {
  const el = toast('', 'live');
  el.dataset.kind = n.kind;
  const money = !n.kind.startsWith('points') && !n.kind.startsWith('ticket') && !n.kind.startsWith('payment_password') && n.amount;
  fill(el, h('strong', null, notificationTitle(n)), money ? h('span', null, ' ' + cny(n.amount)) : null);
  const ticket = n.kind === 'ticket.answered' && (n.transaction_id || '').startsWith('tkt_');
  const reset = n.kind === 'payment_password.reset_required';
  el.addEventListener('click', () => app.go(n.kind === 'payment.pending' ? 'code' : ticket ? 'tickets/' + n.transaction_id : reset ? 'settings' : 'inbox'));
}

// ---- development SMS banner ----

let smsTimer = null;
let lastSMS = '';

// devProbe asks the page's own server whether it runs in development mode
// (/assets/env.json, always there), so a production page never requests the
// development SMS inbox and never logs its 404.
async function devProbe() {
  try {
    const res = await fetch('/assets/env.json', { cache: 'no-store' });
    app.dev = res.ok && (await res.json()).dev === true;
  } catch {
    app.dev = false;
  }
  document.body.classList.toggle('dev', app.dev);
  if (app.dev) {
    pollSMS();
    smsTimer = setInterval(pollSMS, 1500);
  }
}

const purposes = [['注册', 'register'], ['登录', 'login'], ['绑定银行卡', 'bind_card'], ['设置支付密码', 'set_payment_password'],
  ['重置支付密码', 'reset_payment_password'], ['解冻钱包', 'unfreeze'], ['确认支付', 'step_up']];

async function pollSMS() {
  const phone = app.smsPhone || session.phone;
  const banner = document.getElementById('dev-banner');
  if (!valid.phone(phone) || document.hidden) {
    if (!valid.phone(phone)) { banner.hidden = false; fill(banner, h('strong', null, t('dev.banner')), ' ', t('dev.noPhone')); }
    return;
  }
  let list;
  try {
    list = await api('GET', '/v1/dev/sms?phone=' + encodeURIComponent(phone), { auth: false });
  } catch {
    return;
  }
  const msgs = (list.messages || []).slice(0, 3);
  const sig = phone + JSON.stringify(msgs);
  if (sig === lastSMS) return;
  lastSMS = sig;
  banner.hidden = false;
  fill(banner, h('strong', null, t('dev.banner')), ' ', h('span', { class: 'muted' }, maskPhone(phone)),
    msgs.length === 0 ? h('span', null, ' ' + t('dev.none')) : null,
    ...msgs.map((m, i) => {
      const code = (/(\d{6})/.exec(m.text) || [])[1] || '';
      const purpose = (purposes.find(([zh]) => m.text.includes('用于' + zh)) || [])[1] || '';
      return h('span', { class: i === 0 ? 'sms latest' : 'sms', title: m.text, dataset: { purpose, code, sentAt: m.sent_at } },
        h('span', { class: 'sms-code' }, code), ' ', h('span', { class: 'sms-purpose' }, t('purpose.' + purpose, {}, purpose)));
    }));
}

// ---- start ----

function start() {
  app.pollSMS = pollSMS;
  // A pay link (…/pay/ord_…) pasted or opened as ?pay= lands on the order.
  const q = new URLSearchParams(location.search);
  if (q.get('pay') && valid.orderId(q.get('pay'))) {
    history.replaceState(null, '', '/#/pay/' + q.get('pay'));
  }
  drawHeader();
  onLangChange(() => { drawHeader(); route(); pollSMS(); });
  onSignedOut(() => {
    stopEvents?.();
    app.notifications = [];
    app.unread = 0;
    drawHeader();
    location.hash = '#/welcome';
  });
  window.addEventListener('hashchange', route);
  window.addEventListener('hebao:signedin', () => { drawHeader(); startEvents(); });
  window.addEventListener('hebao:signedout', () => { stopEvents?.(); app.unread = 0; drawHeader(); });
  startEvents();
  devProbe();
  route();
}

start();
