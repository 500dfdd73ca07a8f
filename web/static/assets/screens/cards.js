// Bank cards: the bound cards in the customer's order (which auto top-up follows),
// moving one up, unbinding, and binding another.

import { h, when } from '../dom.js';
import { t, lang } from '../i18n.js';
import { api } from '../api.js';
import { page, errorBox, busy, confirmDialog, toast, redraw } from '../ui.js';
import { bindCardForm } from './open.js';

export async function render(ctx) {
  const { view } = ctx;
  const [wallet, list] = await Promise.all([api('GET', '/v1/wallet'), api('GET', '/v1/cards')]);
  const errors = errorBox();
  const cards = list.cards;
  const again = () => redraw(ctx, render);
  const move = (i) => async (e) => {
    const ids = cards.map((c) => c.id);
    [ids[i - 1], ids[i]] = [ids[i], ids[i - 1]];
    await busy(e.currentTarget, async () => {
      try { await api('PUT', '/v1/cards/order', { body: { card_ids: ids } }); again(); } catch (err) { errors.show(err); }
    });
  };
  const remove = (c) => async (e) => {
    const btn = e.currentTarget;
    if (!await confirmDialog(t('card.unbindAsk', { card: `${c.bank_name} ${c.masked_number}` }), t('card.unbind'), true)) return;
    await busy(btn, async () => {
      try { await api('DELETE', '/v1/cards/' + c.id); toast(t('card.unbound')); again(); } catch (err) { errors.show(err); }
    });
  };
  const items = cards.map((c, i) => h('li', { class: 'bank-card', dataset: { id: c.id } },
    h('div', null,
      h('strong', null, c.bank_name), h('span', { class: 'sandbox-tag' }, t('sandbox.tag')),
      h('p', { class: 'card-number' }, c.masked_number),
      h('p', { class: 'muted small' }, t('card.boundAt', { date: when(c.bound_at, lang()) }))),
    h('div', { class: 'card-actions' },
      i > 0 ? h('button', { type: 'button', class: 'btn small ghost', onclick: move(i), 'aria-label': t('card.up') }, '↑') : null,
      h('button', { type: 'button', class: 'btn small ghost', onclick: remove(c) }, t('card.unbind')))));
  const add = wallet.tier === 4
    ? h('p', null, t('card.needRealName'), ' ', h('a', { href: '#/open' }, t('open.s1')))
    : h('details', { class: 'panel', open: cards.length === 0 }, h('summary', null, t('card.add')), bindCardForm(again));
  view.append(...page(t('cards.title'), [
    cards.length ? h('ul', { class: 'bank-cards', id: 'cards' }, items) : h('p', { class: 'muted' }, t('cards.none')),
    cards.length > 1 ? h('p', { class: 'muted small' }, t('cards.order')) : null,
    errors, add,
  ], { back: '#/' }));
}
