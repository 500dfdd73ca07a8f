// The demo shop's page (/demo/shop, under --dev). It talks only to the shop's own
// server (/demo/shop/api/…), which creates the order through Hebao's merchant API and
// learns that it was paid from Hebao's signed webhook. The page polls that server
// and shows "paid" only once the shop has verified the webhook.

import { setWords, startLanguage, t, lang, call, explain, cny, h, here } from './demo-common.js';

const CURRENT = 'hebao.demo.shop.current'; // sessionStorage: the order on screen

setWords({
  zh: {
    title: '荷包小铺（开发演示）',
    'shop.name': '荷包小铺',
    'shop.pick': '选一件商品',
    'shop.buy': '购买',
    'nav.till': '收银台',
    'nav.portal': '商户中心',
    'checkout.title': '扫码付款',
    'checkout.scan': '用荷包扫描二维码，或打开付款链接：',
    'checkout.no': '订单号',
    'checkout.hebao': '荷包查询状态',
    'checkout.events': '已验签的 Webhook',
    'checkout.again': '再买一件',
    'checkout.qr': '付款二维码',
    'state.unpaid': '等待付款…',
    'state.paid': '已付款 — Webhook 已验签',
    'state.refunded': '已退款 {amount} — Webhook 已验签',
    'state.closed': '订单已关闭（未付款）',
    'events.none': '（尚无）',
    'error.hebao_unavailable': '商店暂时连不上荷包',
    'error.not_found': '找不到这个订单',
    'error.invalid_request': '请求有误',
  },
  en: {
    title: 'Hebao corner shop (development demo)',
    'shop.name': 'Hebao corner shop',
    'shop.pick': 'Pick something',
    'shop.buy': 'Buy',
    'nav.till': 'Till',
    'nav.portal': 'Merchant portal',
    'checkout.title': 'Scan to pay',
    'checkout.scan': 'Scan the QR code with Hebao, or open the pay link:',
    'checkout.no': 'Order number',
    'checkout.hebao': 'Hebao says',
    'checkout.events': 'Verified webhooks',
    'checkout.again': 'Buy something else',
    'checkout.qr': 'QR code to pay',
    'state.unpaid': 'Waiting for payment…',
    'state.paid': 'paid — verified webhook',
    'state.refunded': 'refunded {amount} — verified webhook',
    'state.closed': 'Order closed (not paid)',
    'events.none': '(none yet)',
    'error.hebao_unavailable': 'The shop cannot reach Hebao right now',
    'error.not_found': 'No such order',
    'error.invalid_request': 'Invalid request',
  },
});

const $ = (id) => document.getElementById(id);

let products = [];
let order = null; // the shop's order on screen
let timer = 0;

async function loadProducts() {
  try {
    products = (await call('GET', '/demo/shop/api/products')).items;
  } catch (e) {
    $('products-error').textContent = explain(e);
    $('products-error').hidden = false;
  }
  renderProducts();
}

function renderProducts() {
  $('products').replaceChildren(...products.map((p) => h('article', { class: 'product card', 'data-product': p.id },
    h('h2', null, lang === 'en' ? p.name_en : p.name),
    h('p', { class: 'muted small' }, lang === 'en' ? p.name : p.name_en),
    h('p', { class: 'price' }, cny(p.price)),
    h('button', { type: 'button', class: 'primary', onclick: (ev) => buy(ev, p) }, t('shop.buy')))));
}

async function buy(ev, p) {
  ev.target.disabled = true;
  $('products-error').hidden = true;
  try {
    order = await call('POST', '/demo/shop/api/orders', { product_id: p.id });
  } catch (e) {
    $('products-error').textContent = explain(e);
    $('products-error').hidden = false;
    return;
  } finally {
    ev.target.disabled = false;
  }
  sessionStorage.setItem(CURRENT, order.out_trade_no);
  showCheckout();
}

function showCheckout() {
  $('catalogue').hidden = true;
  $('checkout').hidden = false;
  $('checkout-error').hidden = true;
  renderCheckout();
  poll();
}

function renderCheckout() {
  if (!order) return;
  $('checkout-subject').textContent = order.subject;
  $('checkout-amount').textContent = cny(order.amount);
  const qr = $('qr');
  qr.alt = t('checkout.qr');
  if (order.qr_url && order.state === 'unpaid') {
    if (qr.getAttribute('src') !== here(order.qr_url)) qr.src = here(order.qr_url);
    qr.hidden = false;
  } else {
    qr.hidden = true; // paid or closed: nothing to scan any more
  }
  const link = $('pay-link');
  link.parentElement.hidden = !(order.pay_url && order.state === 'unpaid');
  if (order.pay_url) {
    link.href = here(order.pay_url);
    link.textContent = order.pay_url;
  }
  const st = $('order-state');
  st.className = 'state st-' + order.state;
  st.dataset.state = order.state;
  st.textContent = t('state.' + order.state, { amount: cny(order.refunded) });
  $('order-no').textContent = order.out_trade_no;
  $('hebao-status').textContent = order.hebao_status || '—';
  $('order-events').replaceChildren(...(order.events.length ? order.events.map((e) => h('span', { class: 'block' }, e)) : [t('events.none')]));
}

// poll asks the shop's server for the order until nothing more can happen to it:
// every 1.5 s while unpaid, then every 5 s to catch refunds.
async function poll() {
  clearTimeout(timer);
  if (!order) return;
  try {
    order = await call('GET', '/demo/shop/api/orders/' + encodeURIComponent(order.out_trade_no));
    $('checkout-error').hidden = true;
  } catch (e) {
    if (e.status === 404) return backToShop(); // the server restarted and forgot it
    $('checkout-error').textContent = explain(e);
    $('checkout-error').hidden = false;
  }
  renderCheckout();
  if (order.state === 'closed' || (order.state === 'refunded' && order.refunded >= order.amount)) return;
  timer = setTimeout(poll, order.state === 'unpaid' ? 1500 : 5000);
}

function backToShop() {
  clearTimeout(timer);
  order = null;
  sessionStorage.removeItem(CURRENT);
  $('checkout').hidden = true;
  $('catalogue').hidden = false;
}

async function start() {
  $('again').addEventListener('click', backToShop);
  startLanguage(() => {
    renderProducts();
    renderCheckout();
  });
  await loadProducts();
  const current = sessionStorage.getItem(CURRENT);
  if (current) {
    try {
      order = await call('GET', '/demo/shop/api/orders/' + encodeURIComponent(current));
      showCheckout();
    } catch {
      sessionStorage.removeItem(CURRENT);
    }
  }
}

start();
