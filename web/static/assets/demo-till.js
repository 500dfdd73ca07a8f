// The demo till's page (/demo/till, under --dev): the cashier types the amount and
// the customer's payment code; the till's server posts them to Hebao's
// POST /v1/merchant/code-payments. SUCCESS is paid; USERPAYING waits for the customer
// to confirm in the app, and the page polls until it is SUCCESS or CLOSED.

import { setWords, startLanguage, t, call, explain, parseYuan, cny } from './demo-common.js';

setWords({
  zh: {
    title: '荷包小铺收银台（开发演示）',
    'till.name': '荷包小铺 · 收银台',
    'nav.shop': '商店',
    'nav.portal': '商户中心',
    'till.title': '付款码收款',
    'till.help': '输入金额，扫描（或输入）顾客荷包里“付款”页面的 18 位付款码。',
    'till.amount': '金额（元）',
    'till.code': '顾客付款码',
    'till.subject': '商品（选填）',
    'till.subjectPlaceholder': '门店收款',
    'till.charge': '收款',
    'till.cancel': '取消收款',
    'till.next': '下一笔',
    'code.format': '付款码是 18 位数字',
    'status.SUCCESS': '收款成功 SUCCESS',
    'status.USERPAYING': '等待顾客在荷包中输入支付密码确认… USERPAYING',
    'status.CLOSED': '已关闭 CLOSED：顾客没有确认，未扣款',
    'result.detail': '{amount} · {subject} · 订单号 {no}',
    'error.payment_code_invalid': '付款码无效或已过期，请顾客刷新后重扫',
    'error.insufficient_funds': '顾客余额不足',
    'error.limit_exceeded': '超出顾客的支付限额',
    'error.wallet_frozen': '顾客的钱包已冻结',
    'error.order_already_paid': '已经付款，不能取消',
    'error.hebao_unavailable': '收银台暂时连不上荷包',
    'error.invalid_request': '请求有误',
  },
  en: {
    title: 'Hebao corner shop till (development demo)',
    'till.name': 'Hebao corner shop · Till',
    'nav.shop': 'Shop',
    'nav.portal': 'Merchant portal',
    'till.title': 'Take a payment code',
    'till.help': 'Type the amount, then scan (or type) the 18-digit code on the "Pay" screen of the customer\'s Hebao app.',
    'till.amount': 'Amount (yuan)',
    'till.code': 'Customer\'s payment code',
    'till.subject': 'Item (optional)',
    'till.subjectPlaceholder': 'Till payment',
    'till.charge': 'Charge',
    'till.cancel': 'Cancel',
    'till.next': 'Next customer',
    'code.format': 'A payment code is 18 digits',
    'status.SUCCESS': 'Paid: SUCCESS',
    'status.USERPAYING': 'Waiting for the customer to confirm with the payment password… USERPAYING',
    'status.CLOSED': 'Closed: CLOSED, the customer did not confirm and was not charged',
    'result.detail': '{amount} · {subject} · order {no}',
    'error.payment_code_invalid': 'The code is not valid or has expired: ask the customer to refresh it and scan again',
    'error.insufficient_funds': 'The customer\'s balance is too low',
    'error.limit_exceeded': 'Over the customer\'s payment limit',
    'error.wallet_frozen': 'The customer\'s wallet is frozen',
    'error.order_already_paid': 'Paid already: it cannot be cancelled',
    'error.hebao_unavailable': 'The till cannot reach Hebao right now',
    'error.invalid_request': 'Invalid request',
  },
});

const $ = (id) => document.getElementById(id);

let charge = null; // the charge on screen
let timer = 0;

// showError shows e under the form, or under the charge once there is one.
function showError(e) {
  const el = charge ? $('result-error') : $('charge-error');
  el.textContent = typeof e === 'string' ? e : explain(e);
  el.hidden = false;
}

async function submit(ev) {
  ev.preventDefault();
  $('charge-error').hidden = true;
  const amount = parseYuan($('amount').value);
  if (amount.error) return showError(t(amount.error));
  const code = $('code').value.replace(/\s+/g, '');
  if (!/^\d{18}$/.test(code)) return showError(t('code.format'));
  const subject = $('subject').value.trim();
  const button = $('charge');
  button.disabled = true;
  try {
    charge = await call('POST', '/demo/till/api/charges', { amount: amount.fen, auth_code: code, ...(subject ? { subject } : {}) });
  } catch (e) {
    showError(e);
    return;
  } finally {
    button.disabled = false;
  }
  $('code').value = ''; // a code is good once
  render();
  if (charge.status === 'USERPAYING') timer = setTimeout(poll, 2000);
}

// poll asks for the charge every 2 seconds until the customer confirms (SUCCESS) or
// it closes (60 seconds without a confirmation, or cancelled).
async function poll() {
  clearTimeout(timer);
  if (!charge || charge.status !== 'USERPAYING') return;
  try {
    charge = await call('GET', '/demo/till/api/charges/' + encodeURIComponent(charge.out_trade_no));
    $('result-error').hidden = true;
  } catch (e) {
    showError(e);
  }
  render();
  if (charge.status === 'USERPAYING') timer = setTimeout(poll, 2000);
}

async function cancel() {
  if (!charge) return;
  $('cancel').disabled = true;
  $('result-error').hidden = true;
  try {
    charge = await call('POST', `/demo/till/api/charges/${encodeURIComponent(charge.out_trade_no)}/close`);
  } catch (e) {
    showError(e);
    poll(); // paid meanwhile, perhaps
  } finally {
    $('cancel').disabled = false;
  }
  render();
}

function next() {
  clearTimeout(timer);
  charge = null;
  $('charge-error').hidden = true;
  $('result-error').hidden = true;
  $('amount').value = '';
  $('subject').value = '';
  render();
  $('amount').focus();
}

function render() {
  const busy = charge !== null;
  $('charge-form').hidden = busy;
  $('result').hidden = !busy;
  if (!busy) return;
  const st = $('result-status');
  st.textContent = t('status.' + charge.status);
  st.className = 'result-status rs-' + charge.status.toLowerCase();
  st.dataset.status = charge.status;
  $('result-detail').textContent = t('result.detail', { amount: cny(charge.amount), subject: charge.subject, no: charge.out_trade_no });
  $('cancel').hidden = charge.status !== 'USERPAYING';
  $('next').hidden = charge.status === 'USERPAYING';
}

function start() {
  $('charge-form').addEventListener('submit', submit);
  $('cancel').addEventListener('click', cancel);
  $('next').addEventListener('click', next);
  startLanguage(render);
}

start();
