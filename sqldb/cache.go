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
