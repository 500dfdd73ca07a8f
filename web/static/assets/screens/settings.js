// Settings: the password-free allowance, auto top-up and the SMS threshold; the
// payment password (change or reset); stop-payment (report the phone lost) and
// unfreezing; signing out.

import { h, maskPhone } from '../dom.js';
import { t, lang, setLang } from '../i18n.js';
import { api, session, valid } from '../api.js';
import { parseYuan, plainYuan } from '../money.js';
import { tierName } from '../labels.js';
import { page, field, input, errorBox, codeButton, check, busy, keypad, confirmDialog, toast, redraw } from '../ui.js';
import { payPasswordForm, paySet } from './open.js';

export async function render(ctx) {
  const { view } = ctx;
  const [wallet, st] = await Promise.all([api('GET', '/v1/wallet'), api('GET', '/v1/wallet/settings')]);
  const again = () => redraw(ctx, render);
  view.append(...page(t('settings.title'), [
    h('section', { class: 'panel', id: 'account' },
      h('p', null, t('settings.phone'), ' ', h('strong', null, maskPhone(session.phone))),
      h('p', null, t('settings.tier'), ' ', h('strong', null, tierName(wallet.tier)), ' · ', t('settings.status'), ' ',
        h('strong', { id: 'wallet-status', dataset: { status: wallet.status } }, t('wallet.' + wallet.status))),
      h('nav', { class: 'links' }, h('a', { href: '#/cards' }, t('cards.title')), h('a', { href: '#/rewards' }, t('rewards.title')),
        h('a', { href: '#/inbox' }, t('inbox.title')), h('a', { href: '#/help' }, t('help.title')),
        wallet.tier > 2 ? h('a', { href: '#/open' }, t('home.finishOpening')) : null)),
    // Locked by customer service: only the reset below (code and ID number) unlocks it.
    wallet.payment_password === 'reset_required'
      ? h('div', { class: 'error', role: 'alert', id: 'paypw-reset-required' }, h('p', { class: 'error-main' }, t('pp.resetRequired')),
        h('p', null, h('a', { href: '#/settings', onclick: (e) => { e.preventDefault(); document.getElementById('paypw-reset')?.scrollIntoView(); } }, t('pp.resetLink'))))
      : null,
    settingsForm(st),
    h('details', { class: 'panel', id: 'paypw' }, h('summary', null, (wallet.payment_password_set || paySet.get(wallet.id)) ? t('pp.change') : t('pp.set')), payPasswordForm(wallet, again)),
    h('details', { class: 'panel', id: 'paypw-reset', open: wallet.payment_password === 'reset_required' }, h('summary', null, t('pp.forgot')), resetForm(wallet, again)),
    wallet.status === 'active' ? freezePanel(again) : unfreezePanel(again),
    h('section', { class: 'panel' },
      h('h2', null, t('settings.language')),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: lang() === 'zh' ? 'btn small primary' : 'btn small ghost', onclick: () => setLang('zh') }, '中文'),
        h('button', { type: 'button', class: lang() === 'en' ? 'btn small primary' : 'btn small ghost', onclick: () => setLang('en') }, 'English'))),
    signOutPanel(),
  ]));
}

function settingsForm(st) {
  const errors = errorBox();
  const pfOn = input({ type: 'checkbox', name: 'pf_enabled', checked: st.password_free.enabled });
  const pfLimit = input({ type: 'text', inputmode: 'decimal', name: 'pf_limit', value: plainYuan(st.password_free.per_payment_limit), maxlength: 8 });
  const auto = input({ type: 'checkbox', name: 'auto_topup', checked: st.auto_topup });
  const sms = input({ type: 'text', inputmode: 'decimal', name: 'sms_threshold', value: st.sms_threshold === null ? '' : plainYuan(st.sms_threshold), maxlength: 15, placeholder: t('settings.smsOff') });
  const fLimit = field(t('settings.pfLimit'), pfLimit, t('settings.pfLimitHint'));
  const fSms = field(t('settings.sms'), sms, t('settings.smsHint'));
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('save'));
  const form = h('form', { class: 'panel form', id: 'settings-form', novalidate: true },
    h('h2', null, t('settings.payments')),
    h('label', { class: 'switch' }, pfOn, h('span', null, t('settings.pf'))), fLimit,
    h('label', { class: 'switch' }, auto, h('span', null, t('settings.auto'))),
    h('p', { class: 'muted small' }, t('settings.autoHint')),
    fSms, errors, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    const limit = parseYuan(pfLimit.value);
    if (!check([fLimit, !limit.error, limit.error || ''], [fLimit, limit.fen <= 100000, 'v.pfLimit'])) return;
    let threshold = null;
    if (sms.value.trim() !== '') {
      const r = parseYuan(sms.value);
      if (!check([fSms, !r.error, r.error || ''])) return;
      threshold = r.fen;
    }
    const body = { password_free: { enabled: pfOn.checked, per_payment_limit: limit.fen }, auto_topup: auto.checked, sms_threshold: threshold };
    busy(submit, async () => {
      try {
        await api('PUT', '/v1/wallet/settings', { body });
        toast(t('saved'), 'ok');
      } catch (err) { errors.show(err); }
    });
  });
  return form;
}

function resetForm(wallet, onDone) {
  const errors = errorBox();
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6 });
  const id = input({ type: 'text', name: 'id_number', maxlength: 18 });
  const fCode = field(t('f.code'), h('div', { class: 'inline' }, code, codeButton(() => session.phone, 'reset_payment_password', errors)));
  const fId = field(t('f.idNumber'), id);
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('pp.enter'));
  const form = h('form', { class: 'form', novalidate: true }, h('p', { class: 'muted small' }, t('pp.resetText')), fCode, fId, errors, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.clear();
    const num = id.value.trim().toUpperCase();
    if (!check([fCode, valid.code(code.value), 'v.code'], [fId, valid.idNumber(num), 'v.idNumber'])) return;
    const first = await keypad({ title: t('pp.new') });
    if (!first) return;
    const again = await keypad({ title: t('pp.again') });
    if (!again) return;
    if (again !== first) { errors.show(t('v.ppMismatch')); return; }
    busy(submit, async () => {
      try {
        await api('POST', '/v1/wallet/payment-password/reset', { body: { otp: code.value, id_number: num, password: first } });
        paySet.set(wallet.id);
        toast(t('pp.done'), 'ok');
        onDone();
      } catch (err) { errors.show(err); }
    });
  });
  return form;
}

function freezePanel(onDone) {
  const errors = errorBox();
  const reason = input({ type: 'text', name: 'reason', maxlength: 500, value: t('lost.reasonDefault') });
  const fReason = field(t('f.reason'), reason);
  const submit = h('button', { class: 'btn danger block', type: 'submit', id: 'freeze-submit' }, t('freeze.submit'));
  const form = h('form', { class: 'panel form', id: 'freeze-form', novalidate: true },
    h('h2', null, t('freeze.title')), h('p', null, t('freeze.text')), fReason, errors, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.clear();
    if (!check([fReason, reason.value.trim().length > 0 && reason.value.length <= 500, 'v.required'])) return;
    if (!await confirmDialog(t('freeze.ask'), t('freeze.submit'), true)) return;
    busy(submit, async () => {
      try {
        await api('POST', '/v1/wallet/freeze', { body: { reason: reason.value.trim() } });
        toast(t('freeze.done'), 'ok');
        onDone();
      } catch (err) { errors.show(err); }
    });
  });
  return form;
}

function unfreezePanel(onDone) {
  const errors = errorBox();
  const code = input({ type: 'text', inputmode: 'numeric', name: 'otp', maxlength: 6 });
  const id = input({ type: 'text', name: 'id_number', maxlength: 18 });
  const fCode = field(t('f.code'), h('div', { class: 'inline' }, code, codeButton(() => session.phone, 'unfreeze', errors)));
  const fId = field(t('f.idNumber'), id);
  const submit = h('button', { class: 'btn primary block', type: 'submit' }, t('unfreeze.submit'));
  const form = h('form', { class: 'panel form', id: 'unfreeze-form', novalidate: true },
    h('h2', null, t('unfreeze.title')), h('p', null, t('unfreeze.text')), fCode, fId, errors, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    const num = id.value.trim().toUpperCase();
    if (!check([fCode, valid.code(code.value), 'v.code'], [fId, valid.idNumber(num), 'v.idNumber'])) return;
    busy(submit, async () => {
      try {
        await api('POST', '/v1/wallet/unfreeze', { body: { otp: code.value, id_number: num } });
        toast(t('unfreeze.done'), 'ok');
        onDone();
      } catch (err) { errors.show(err); }
    });
  });
  return form;
}

function signOutPanel() {
  const errors = errorBox();
  const out = (path) => async (e) => busy(e.currentTarget, async () => {
    try {
      await api('DELETE', path);
    } catch (err) {
      if (err.status !== 401) { errors.show(err); return; }
    }
    session.end();
    window.dispatchEvent(new Event('hebao:signedout'));
    location.hash = '#/welcome';
  });
  return h('section', { class: 'panel' },
    h('button', { type: 'button', class: 'btn ghost block', id: 'signout', onclick: out('/v1/sessions/current') }, t('signout')),
    h('button', { type: 'button', class: 'btn ghost block', onclick: out('/v1/sessions') }, t('signout.all')),
    errors);
}
