package sqldb

import "github.com/hebaopay/hebao"

// accountCache keeps, between batches, the accounts the committer has seen and their
// balances as of its last commit. Only the committer goroutine touches it, so it has
// no lock. With one process it is exact; with several sharing PostgreSQL it can be
// stale, which is why it is only a hint (see tx.load) and is dropped whenever a batch
// fails.
type accountCache struct {
	m   map[hebao.AccountID]hebao.Account
	max int
}

func newAccountCache(max int) *accountCache {
	return &accountCache{m: map[hebao.AccountID]hebao.Account{}, max: max}
}

func (c *accountCache) get(id hebao.AccountID) (hebao.Account, bool) {
	a, ok := c.m[id]
	return a, ok
}

func (c *accountCache) put(a hebao.Account) {
	if len(c.m) >= c.max {
		// A full cache starts over: cheaper and simpler than tracking recency, and
		// the busy accounts come back within a batch or two.
		clear(c.m)
	}
	c.m[a.ID] = a
}

func (c *accountCache) reset() { clear(c.m) }

// rowCache keeps, between batches, what a payment reads about its payer and payee —
// wallets, phones, payment passwords, limit counters — so that on SQLite a
// transfer's closure reads nothing but its idempotency key. Only the committer
// touches it. It is trusted for a batch only when nothing else can have changed
// those rows since the committer last looked:
//   - SQLite's `PRAGMA data_version`, read once the batch holds the write lock,
//     is what it was at the last batch: no other connection (another process, or
//     another handle on the file) has committed since; otherwise it starts over;
//   - no closure of the batch has written a row directly (a savepoint: a frozen
//     wallet, a new payment password, a tier): from then on the batch reads the
//     database, and the cache starts over once the batch commits.
//
// Limit counters are written only through the batch (SaveUsage), so the values a
// batch commits are put in the cache. PostgreSQL has no data_version, and several
// processes share it, so there the cache is never used.
type rowCache struct {
	version int64
	known   bool
	payers  map[string]payerRow // by customer id
	payees  map[string]payeeRow // by wallet id
	phones  map[string]string   // phone → wallet id
	usage   map[string]hebao.Usage
	// settings are wallets' settings as the dispatcher reads them (WalletSettingsOf);
	// they change only by a direct write (SaveWalletSettings), which drops the cache.
	settings map[string]hebao.WalletSettings
	max      int
}

type payerRow struct {
	w     hebao.Wallet
	phone string
	pw    *hebao.PaymentPassword // nil: none set
}

type payeeRow struct {
	w     hebao.Wallet
	phone string
}

func newRowCache(max int) *rowCache {
	c := &rowCache{max: max}
	c.reset()
	return c
}

func (c *rowCache) reset() {
	c.payers, c.payees = map[string]payerRow{}, map[string]payeeRow{}
	c.phones, c.usage = map[string]string{}, map[string]hebao.Usage{}
	c.settings = map[string]hebao.WalletSettings{}
}

// full starts the cache over when it holds max payers or payees.
func (c *rowCache) full() {
	if len(c.payers) >= c.max || len(c.payees) >= c.max || len(c.usage) >= 2*c.max || len(c.settings) >= 2*c.max {
		c.reset()
	}
}

// usable reports whether the batch may trust the cache, given the database's data
// version (ok false where there is none), and starts over on a new version.
func (c *rowCache) usable(version int64, ok bool) bool {
	if !ok || c.max == 0 {
		return false
	}
	if !c.known || version != c.version {
		c.reset()
		c.version, c.known = version, true
	}
	return true
}
