// Signing up, signing in (with the SMS step-up on a new device) and reporting a lost
// phone without a session.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, session, deviceId, valid } from '../api.js';
import { page, field, input, errorBox, codeButton, check, busy, toast } from '../ui.js';

function signedIn(app, token, phone, next) {
  session.start(token, phone);
  window.dispatchEvent(new Event('hebao:signedin'));
  const after = sessionStorage.getItem('hebao.next');
  sessionStorage.removeItem('hebao.next');
  app.go(next || after || '');
}

export function welcome({ view }) {
  view.append(
    h('section', { class: 'hero' },
      h('img', { src: '/assets/icon.svg', alt: '', width: 72, height: 72 }),
      h('h1', null, t('welcome.title')),
      h('p', null, t('welcome.text'))),
    h('div', { class: 'stack' },
      h('a', { class: 'btn primary block', href: '#/signup', id: 'go-signup' }, t('signup.title')),
      h('a', { class: 'btn ghost block', href: '#/signin', id: 'go-signin' }, t('signin.title'))),
    h('p', { class: 'center small' },
      h('a', { href: '#/lost' }, t('lost.title')), ' · ', h('a', { href: '#/help' }, t('help.title'))));
}

function phoneInput(app) {
  const el = input({ type: 'tel', inputmode: 'numeric', name: 'phone', maxlength: 11, autocomplete: 'tel', placeholder: '13800138000', value: session.phone });
  el.addEventListener('input', () => {
    if (valid.phone(el.value)) { app.smsPhone = el.value; app.pollSMS(); }
  });
  if (valid.phone(el.value)) app.smsPhone = el.value;
  return el;
}

export function signup({ view, app }) {
  const errors = errorBox();
  const phone = phoneInput(app);
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6, autocomplete: 'one-time-code' });
  const pw = input({ type: 'password', name: 'password', maxlength: 64, autocomplete: 'new-password' });
  const fPhone = field(t('f.phone'), phone);
  const fCode = field(t('f.code'), h('div', { class: 'inline' }, code, codeButton(() => phone.value, 'register', errors, app.pollSMS)));
  const fPw = field(t('f.loginPassword'), pw, t('f.loginPassword.hint'));
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('signup.submit'));
  const form = h('form', { class: 'form', id: 'signup-form', novalidate: true }, fPhone, fCode, fPw, errors, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    if (!check([fPhone, valid.phone(phone.value), 'v.phone'], [fCode, valid.code(code.value), 'v.code'],
      [fPw, valid.loginPassword(pw.value), 'v.loginPassword'])) return;
    busy(submit, async () => {
      try {
        const r = await api('POST', '/v1/customers', { auth: false, body: { phone: phone.value, otp: code.value, password: pw.value, device_id: deviceId() } });
        toast(t('signup.done'));
        signedIn(app, r.token, phone.value, 'open');
      } catch (err) {
        errors.show(err);
      }
    });
  });
  view.append(...page(t('signup.title'), [form, h('p', { class: 'center small' }, t('signup.have'), ' ', h('a', { href: '#/signin' }, t('signin.title')))], { back: '#/welcome' }));
}

export function signin({ view, app }) {
  const errors = errorBox();
  const phone = phoneInput(app);
  const pw = input({ type: 'password', name: 'password', maxlength: 1024, autocomplete: 'current-password' });
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6, autocomplete: 'one-time-code' });
  const fPhone = field(t('f.phone'), phone);
  const fPw = field(t('f.loginPassword'), pw);
  const fCode = field(t('f.loginCode'), h('div', { class: 'inline' }, code, codeButton(() => phone.value, 'login', errors, app.pollSMS)), t('signin.newDevice'));
  fCode.hidden = true;
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('signin.submit'));
  const form = h('form', { class: 'form', id: 'signin-form', novalidate: true }, fPhone, fPw, fCode, errors, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    if (!check([fPhone, valid.phone(phone.value), 'v.phone'], [fPw, pw.value.length > 0, 'v.required'])) return;
    if (!fCode.hidden && !check([fCode, valid.code(code.value), 'v.code'])) return;
    busy(submit, async () => {
      const body = { phone: phone.value, password: pw.value, device_id: deviceId() };
      if (!fCode.hidden) body.otp = code.value;
      try {
        const r = await api('POST', '/v1/sessions', { auth: false, body });
        signedIn(app, r.token, phone.value);
      } catch (err) {
        if (err.code === 'step_up_required' && fCode.hidden) {
          fCode.hidden = false;
          fCode.querySelector('.code-btn').click(); // the code is on its way
          code.focus();
        }
        errors.show(err);
      }
    });
  });
  view.append(...page(t('signin.title'), [form,
    h('p', { class: 'center small' }, t('signin.none'), ' ', h('a', { href: '#/signup' }, t('signup.title')), ' · ', h('a', { href: '#/lost' }, t('lost.title')))],
  { back: '#/welcome' }));
}

// lost freezes a wallet from any device, with an SMS code instead of a session.
export function lost({ view, app }) {
  const errors = errorBox();
  const phone = phoneInput(app);
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6 });
  const reason = input({ type: 'text', name: 'reason', maxlength: 500, value: t('lost.reasonDefault') });
  const fPhone = field(t('f.phone'), phone);
  const fCode = field(t('f.code'), h('div', { class: 'inline' }, code, codeButton(() => phone.value, 'step_up', errors, app.pollSMS)));
  const fReason = field(t('f.reason'), reason);
  const submit = h('button', { class: 'btn danger block', type: 'submit' }, t('lost.submit'));
  const form = h('form', { class: 'form', novalidate: true, id: 'lost-form' }, h('p', null, t('lost.text')), fPhone, fCode, fReason, errors, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    if (!check([fPhone, valid.phone(phone.value), 'v.phone'], [fCode, valid.code(code.value), 'v.code'],
      [fReason, reason.value.trim().length > 0, 'v.required'])) return;
    busy(submit, async () => {
      try {
        await api('POST', '/v1/wallet/freeze', { auth: false, body: { phone: phone.value, otp: code.value, reason: reason.value.trim() } });
        form.replaceChildren(h('div', { class: 'done', id: 'lost-done' }, h('h2', null, t('lost.done')), h('p', null, t('lost.doneText'))));
      } catch (err) {
        errors.show(err);
      }
    });
  });
  view.append(...page(t('lost.title'), form, { back: session.token ? '#/settings' : '#/welcome' }));
}
