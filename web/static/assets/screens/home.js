// Home: the balance, red-packet money, tier and what is left of its limits, points,
// the shortcuts and the latest transactions.

import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { cny } from '../money.js';
import { tierName } from '../labels.js';
import { paySet } from './open.js';
import { txRow } from './history.js';
import { icon } from '../icons.js';

export async function render(ctx) {
  await draw(ctx);
  ctx.app.onNotification(() => draw(ctx).catch(() => {}));
}

async function draw({ view }) {
  const [wallet, points, txs] = await Promise.all([
    api('GET', '/v1/wallet'),
    api('GET', '/v1/points?limit=1').catch(() => null),
    api('GET', '/v1/transactions?limit=3'),
  ]);
  const l = wallet.limits;
  const left = (limit, used) => (limit === null ? t('limit.none') : cny(Math.max(0, limit - used)));
  const shortcuts = [
    ['scan', 'scan', 'tab.pay'], ['code', 'code', 'tab.code'], ['transfer', 'transfer', 'transfer.title'], ['topup', 'topup', 'topup.title'],
    ['withdraw', 'withdraw', 'withdraw.title'], ['cards', 'card', 'cards.title'], ['rewards', 'gift', 'rewards.title'], ['help', 'help', 'help.title'],
  ];
  const needsOpening = wallet.tier > 2 || !(wallet.payment_password_set || paySet.get(wallet.id));
  fill(view,
    wallet.status !== 'active' ? h('div', { class: 'frozen', role: 'alert', id: 'frozen-banner' },
      h('strong', null, t('wallet.' + wallet.status)), ' ', t('wallet.frozenText'), ' ', h('a', { href: '#/settings' }, t('settings.unfreeze'))) : null,
    h('section', { class: 'balance-card', id: 'balance-card' },
      h('div', { class: 'row spread' },
        h('span', null, t('home.balance')),
        h('span', { class: 'tier', id: 'tier' }, tierName(wallet.tier))),
      h('p', { class: 'balance', id: 'balance' }, cny(wallet.balance)),
      h('div', { class: 'row spread small' },
        h('span', { class: 'with-icon' }, icon('redpacket'), t('home.promo'), ' ', h('strong', { id: 'promo-balance' }, cny(wallet.promo_balance))),
        points ? h('a', { href: '#/rewards', class: 'points-link' }, t('home.points'), ' ', h('strong', { id: 'points-balance' }, String(points.balance))) : null)),
    needsOpening ? h('a', { class: 'open-banner', href: '#/open', id: 'open-banner' }, t('home.finishOpening'), ' ›') : null,
    h('nav', { class: 'shortcuts' }, shortcuts.map(([r, ic, key]) => h('a', { href: '#/' + r, class: 'shortcut', id: 'go-' + r },
      h('span', { class: 'shortcut-icon' }, icon(ic)), h('span', null, t(key))))),
    h('section', { class: 'panel', id: 'limits' },
      h('h2', null, t('home.limits')),
      h('dl', { class: 'limits' },
        h('dt', null, t('limit.single')), h('dd', null, l.single_payment === null ? t('limit.none') : cny(l.single_payment)),
        h('dt', null, t('limit.today')), h('dd', null, left(l.daily_payments, wallet.used.today)),
        h('dt', null, t('limit.year')), h('dd', null, left(l.yearly_payments, wallet.used.this_year)),
        h('dt', null, t('limit.cap')), h('dd', null, l.balance_cap === null ? t('limit.none') : cny(l.balance_cap)))),
    h('section', { class: 'panel' },
      h('div', { class: 'row spread' }, h('h2', null, t('home.recent')), h('a', { href: '#/history' }, t('home.all'))),
      txs.items.length ? h('ul', { class: 'txs' }, txs.items.map(txRow)) : h('p', { class: 'muted' }, t('history.empty'))));
}
