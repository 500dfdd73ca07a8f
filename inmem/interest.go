package inmem

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hebaopay/hebao"
)

// interestData is the interest job's runs by date and each wallet's interest not
// yet paid.
type interestData struct {
	runs     map[string]hebao.InterestRun
	accounts map[string]hebao.InterestAccount // by wallet id; Account and CustomerID unset
}

func (d interestData) clone() interestData {
	return interestData{runs: maps.Clone(d.runs), accounts: maps.Clone(d.accounts)}
}

// interest returns the interest data, made on first use.
func (t *tx) interest() *interestData {
	if t.d.interest.runs == nil {
		t.d.interest = interestData{runs: map[string]hebao.InterestRun{}, accounts: map[string]hebao.InterestAccount{}}
	}
	return &t.d.interest
}

// InterestRun implements hebao.Tx.
func (t *tx) InterestRun(_ context.Context, date string) (hebao.InterestRun, error) {
	if err := t.read(); err != nil {
		return hebao.InterestRun{}, err
	}
	r, ok := t.interest().runs[date]
	if !ok {
		return r, notFound("interest run")
	}
	return r, nil
}

// LatestInterestRun implements hebao.Tx.
func (t *tx) LatestInterestRun(_ context.Context) (hebao.InterestRun, error) {
	if err := t.read(); err != nil {
		return hebao.InterestRun{}, err
	}
	dates := slices.Sorted(maps.Keys(t.interest().runs))
	if len(dates) == 0 {
		return hebao.InterestRun{}, notFound("interest run")
	}
	return t.interest().runs[dates[len(dates)-1]], nil
}

// SaveInterestRun implements hebao.Tx.
func (t *tx) SaveInterestRun(_ context.Context, r hebao.InterestRun) error {
	if err := t.write(); err != nil {
		return err
	}
	t.interest().runs[r.Date] = r
	return nil
}

// TransferSeqAt implements hebao.Tx. Transfers of the current closure have no
// number yet: they count as after the head.
func (t *tx) TransferSeqAt(_ context.Context, at time.Time) (int64, error) {
	if err := t.read(); err != nil {
		return 0, err
	}
	for _, tr := range t.d.transfers {
		if tr.Seq != 0 && !tr.CreatedAt.Before(at) {
			return tr.Seq, nil
		}
	}
	return t.d.head.Seq + 1, nil
}

// NetPostings implements hebao.Tx. Like the real store's, it sees only committed
// transfers, and so do the balances a closure reads until it posts.
func (t *tx) NetPostings(_ context.Context, afterSeq int64, since time.Time) (map[hebao.AccountID]int64, int64, error) {
	if err := t.read(); err != nil {
		return nil, 0, err
	}
	net := map[hebao.AccountID]int64{}
	for _, tr := range t.d.transfers {
		if tr.Seq == 0 || tr.Seq <= afterSeq || tr.CreatedAt.Before(since) {
			continue
		}
		for _, p := range tr.Postings {
			net[p.Account] += p.Amount
		}
	}
	return net, max(afterSeq, t.d.head.Seq), nil
}

// InterestWallets implements hebao.Tx.
func (t *tx) InterestWallets(_ context.Context, after string, createdBefore time.Time, limit int) ([]hebao.InterestWallet, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.InterestWallet
	for _, id := range slices.Sorted(maps.Keys(t.d.wallets)) {
		w := t.d.wallets[id]
		if id <= after || !w.CreatedAt.Before(createdBefore) {
			continue
		}
		out = append(out, hebao.InterestWallet{WalletID: id, Account: w.Account, Tier: w.Tier, Balance: t.d.accounts[w.Account].Balance})
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// AddInterestAccruals implements hebao.Tx.
func (t *tx) AddInterestAccruals(_ context.Context, date string, as []hebao.InterestAccrual) error {
	if err := t.write(); err != nil {
		return err
	}
	d := t.interest()
	for _, a := range as {
		acct, ok := d.accounts[a.WalletID]
		if ok && acct.LastDate >= date {
			continue
		}
		acct.WalletID = a.WalletID
		acct.Accrued += a.Amount
		acct.LastDate, acct.LastBalance = date, a.Balance
		d.accounts[a.WalletID] = acct
	}
	return nil
}

// InterestDue implements hebao.Tx.
func (t *tx) InterestDue(_ context.Context, date string, minimum int64, after string, limit int) ([]hebao.InterestAccount, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	d := t.interest()
	var out []hebao.InterestAccount
	for _, id := range slices.Sorted(maps.Keys(d.accounts)) {
		a := d.accounts[id]
		if id <= after || a.Accrued < minimum || a.CreditedThrough >= date {
			continue
		}
		out = append(out, t.withWallet(a))
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func (t *tx) withWallet(a hebao.InterestAccount) hebao.InterestAccount {
	w := t.d.wallets[a.WalletID]
	a.Account, a.CustomerID = w.Account, w.CustomerID
	return a
}

// CreditInterest implements hebao.Tx.
func (t *tx) CreditInterest(_ context.Context, walletID, date string, amount int64) error {
	if err := t.write(); err != nil {
		return err
	}
	d := t.interest()
	a, ok := d.accounts[walletID]
	if !ok || a.CreditedThrough >= date || a.Accrued < amount {
		return hebao.Errorf(hebao.CodeConflict, "the interest of wallet %s was credited on %s already", walletID, date)
	}
	a.Accrued -= amount
	a.CreditedThrough = date
	d.accounts[walletID] = a
	return nil
}

// WalletInterest implements hebao.Tx.
func (t *tx) WalletInterest(_ context.Context, walletID string) (hebao.InterestAccount, error) {
	if err := t.read(); err != nil {
		return hebao.InterestAccount{}, err
	}
	a, ok := t.interest().accounts[walletID]
	if !ok {
		return a, notFound("interest account")
	}
	return t.withWallet(a), nil
}
