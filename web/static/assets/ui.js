// Shared pieces of the wallet's screens: toasts, dialogs, the payment-password
// keypad, form fields with their errors, the "send code" button.

import { h, fill } from './dom.js';
import { t } from './i18n.js';
import { ApiError, sendCode, valid } from './api.js';
import { icon } from './icons.js';

// toast shows a short message for a few seconds: at the bottom, where it never
// takes a click meant for the page; a live notification at the top, where a tap
// opens it.
export function toast(text, kind = 'info') {
  const life = kind === 'live' ? 10000 : 4000;
  const box = document.getElementById(kind === 'live' ? 'live-toasts' : 'toasts');
  while (box.children.length >= 2) box.firstChild.remove();
  const el = h('div', { class: 'toast ' + kind, role: 'status' }, text);
  box.appendChild(el);
  setTimeout(() => el.remove(), life);
  return el;
}

// dialog opens a modal sheet holding children; it returns {el, close}. onClose runs
// once when it closes, whichever way.
export function dialog(children, { onClose, label } = {}) {
  const sheet = h('div', { class: 'sheet', role: 'dialog', 'aria-modal': 'true', 'aria-label': label || '', tabindex: '-1' }, children);
  const back = h('div', { class: 'backdrop' }, sheet);
  const before = document.activeElement;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    back.remove();
    document.removeEventListener('keydown', onKey, true);
    if (before instanceof HTMLElement && before.isConnected) before.focus();
    onClose?.();
  };
  const onKey = (e) => { if (e.key === 'Escape') { e.preventDefault(); close(); } };
  back.addEventListener('click', (e) => { if (e.target === back) close(); });
  document.addEventListener('keydown', onKey, true);
  document.body.appendChild(back);
  sheet.focus(); // a screen reader starts here; Escape closes it
  return { el: sheet, close };
}

// confirmDialog asks a yes/no question; it resolves true for yes.
export function confirmDialog(text, okLabel, danger = false) {
  return new Promise((resolve) => {
    let answer = false;
    const d = dialog([
      h('p', { class: 'dialog-text' }, text),
      h('div', { class: 'row' },
        h('button', { class: 'btn ghost', type: 'button', onclick: () => d.close() }, t('cancel')),
        h('button', { class: 'btn ' + (danger ? 'danger' : 'primary'), type: 'button', id: 'confirm-ok',
          onclick: () => { answer = true; d.close(); } }, okLabel)),
    ], { onClose: () => resolve(answer) });
  });
}

let keypads = 0; // numbers each keypad, so that tests and screen readers tell them apart

// keypad asks for the 6-digit payment password on an on-screen keypad (a physical
// keyboard works too). It resolves the digits, or null when cancelled.
export function keypad({ title = t('keypad.title'), detail = '' } = {}) {
  return new Promise((resolve) => {
    let digits = '';
    let result = null;
    const dots = h('div', { class: 'dots', 'aria-label': t('keypad.title') });
    const draw = () => fill(dots, ...Array.from({ length: 6 }, (_, i) => h('span', { class: i < digits.length ? 'dot on' : 'dot' })));
    const press = (k) => {
      if (k === 'del') digits = digits.slice(0, -1);
      else if (digits.length < 6) digits += k;
      draw();
      if (digits.length === 6) {
        result = digits;
        setTimeout(() => d.close(), 120);
      }
    };
    const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '', '0', 'del'].map((k) => k === ''
      ? h('span')
      : h('button', { type: 'button', class: 'key', dataset: { key: k }, 'aria-label': k === 'del' ? t('keypad.delete') : k, onclick: () => press(k) },
        k === 'del' ? '⌫' : k));
    const onKey = (e) => {
      if (/^\d$/.test(e.key)) { e.preventDefault(); press(e.key); }
      else if (e.key === 'Backspace') { e.preventDefault(); press('del'); }
    };
    document.addEventListener('keydown', onKey);
    const d = dialog([
      h('div', { class: 'keypad-head' },
        h('button', { type: 'button', class: 'link', onclick: () => d.close() }, t('cancel')),
        h('strong', null, title)),
      detail ? h('p', { class: 'keypad-detail' }, detail) : null,
      dots,
      h('div', { class: 'keypad' }, keys),
    ], { label: title, onClose: () => { document.removeEventListener('keydown', onKey); resolve(result); } });
    d.el.classList.add('keypad-sheet');
    d.el.dataset.n = String(++keypads);
    draw();
  });
}

// errorText says what went wrong: the API's own detail, and for the codes a
// customer meets most what it means and what to do next.
export function errorText(err) {
  if (!(err instanceof ApiError)) return [String(err?.message || err)];
  if (err.code === 'network') return [t('err.network')];
  const out = [err.detail || t('err.unknown')];
  const hint = t('code.' + err.code, {}, '');
  if (hint) out.push(hint);
  return out;
}

// errorBox is a form's error area: show(err) fills it, clear() empties it.
export function errorBox() {
  const el = h('div', { class: 'error', role: 'alert', hidden: true });
  el.show = (err) => {
    const [main, ...more] = typeof err === 'string' ? [err] : errorText(err);
    fill(el, h('p', { class: 'error-main' }, main), ...more.map((m) => h('p', { class: 'error-hint' }, m)));
    if (err instanceof ApiError) {
      el.dataset.code = err.code;
      if (err.code === 'wallet_frozen') el.appendChild(h('p', null, h('a', { href: '#/settings' }, t('settings.unfreeze'))));
      if (err.code === 'payment_password_locked') el.appendChild(h('p', null, h('a', { href: '#/settings' }, t('pp.resetLink'))));
      if (err.requestId) el.appendChild(h('p', { class: 'muted small' }, t('err.requestId', { id: err.requestId })));
    } else {
      delete el.dataset.code;
    }
    el.hidden = false;
  };
  el.clear = () => { el.hidden = true; el.replaceChildren(); delete el.dataset.code; };
  return el;
}

// field wraps an input with its label and a line for its own error.
export function field(label, input, hint) {
  const err = h('span', { class: 'field-error', hidden: true });
  const wrap = h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), input, hint ? h('span', { class: 'field-hint' }, hint) : null, err);
  input.addEventListener('input', () => { err.hidden = true; input.removeAttribute('aria-invalid'); });
  wrap.fail = (msg) => { err.textContent = msg; err.hidden = false; input.setAttribute('aria-invalid', 'true'); input.focus(); };
  return wrap;
}

// check runs client-side checks in order: [fieldWrap, ok, messageKey]. It marks the
// first failure and returns false, like the API would refuse the request.
export function check(...rules) {
  for (const [wrap, ok, msg] of rules) {
    if (!ok) { wrap.fail(t(msg)); return false; }
  }
  return true;
}

// codeButton sends an SMS code for purpose to getPhone() and counts down the 60
// seconds before another may be asked for. Errors go to errors (an errorBox).
export function codeButton(getPhone, purpose, errors, onSent) {
  let timer = null;
  const btn = h('button', { type: 'button', class: 'btn small code-btn', dataset: { purpose } }, t('otp.send'));
  btn.addEventListener('click', async () => {
    const phone = getPhone();
    if (!valid.phone(phone)) { errors.show(t('v.phone')); return; }
    errors.clear();
    btn.disabled = true;
    try {
      await sendCode(phone, purpose);
      toast(t('otp.sent'));
      onSent?.();
      let left = 60;
      btn.textContent = t('otp.wait', { s: left });
      timer = setInterval(() => {
        left--;
        if (left <= 0 || !btn.isConnected) {
          clearInterval(timer);
          btn.disabled = false;
          btn.textContent = t('otp.again');
        } else btn.textContent = t('otp.wait', { s: left });
      }, 1000);
    } catch (e) {
      btn.disabled = false;
      errors.show(e);
    }
  });
  return btn;
}

// busy disables a button while f runs.
export async function busy(btn, f) {
  if (btn.disabled) return;
  btn.disabled = true;
  btn.classList.add('busy');
  try {
    return await f();
  } finally {
    btn.disabled = false;
    btn.classList.remove('busy');
  }
}

// input makes an input element.
export function input(attrs) {
  return h('input', { autocomplete: 'off', ...attrs });
}

// page builds a screen: a title bar with an optional back link, and the body.
export function page(title, body, { back } = {}) {
  return [
    h('div', { class: 'titlebar' },
      back ? h('a', { href: back, class: 'back', 'aria-label': t('back') }, icon('back')) : null,
      h('h1', null, title)),
    ...[].concat(body).filter(Boolean),
  ];
}

// redraw runs a screen's render again in place; a failure shows on the screen.
export function redraw(ctx, render) {
  ctx.view.replaceChildren();
  render(ctx).catch((e) => {
    if (e?.name === 'AbortError') return;
    const box = errorBox();
    box.show(e);
    ctx.view.append(box);
  });
}

// sleep waits ms milliseconds.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
