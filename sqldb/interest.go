package sqldb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of interest (SPEC §7). The tables are written only by the interest
// job, never held in the committer's caches: so execOwn.
const (
	interestRunColumns = `date, status, cursor, rate_ppm, day_basis, wallets, accrued, payees, credited, started_at, updated_at`
	interestRunByDate  = `SELECT ` + interestRunColumns + ` FROM interest_runs WHERE date = $1`
	interestRunLatest  = `SELECT ` + interestRunColumns + ` FROM interest_runs ORDER BY date DESC LIMIT 1`
	interestRunSave    = `INSERT INTO interest_runs (` + interestRunColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (date) DO UPDATE SET status = excluded.status, cursor = excluded.cursor, rate_ppm = excluded.rate_ppm,
    day_basis = excluded.day_basis, wallets = excluded.wallets, accrued = excluded.accrued, payees = excluded.payees,
    credited = excluded.credited, updated_at = excluded.updated_at`

	ledgerHeadSeq    = `SELECT seq FROM ledger_head WHERE id = 1`
	transferAtOrFrom = `SELECT created_at FROM transfers WHERE seq >= $1 ORDER BY seq LIMIT 1`
	// The postings after a sequence number are a range of the postings' primary key.
	netPostings = `SELECT p.account_id, SUM(p.amount)
FROM postings p JOIN transfers t ON t.seq = p.transfer_seq
WHERE p.transfer_seq > $1 AND p.transfer_seq <= $2 AND t.created_at >= $3
GROUP BY p.account_id`

	interestWallets = `SELECT w.id, w.account_id, w.tier, a.balance
FROM wallets w JOIN accounts a ON a.id = w.account_id
WHERE w.id > $1 AND w.created_at < $2
ORDER BY w.id LIMIT $3`

	interestAccountColumns = `i.wallet_id, w.account_id, w.customer_id, i.accrued, i.last_date, i.last_balance, i.credited_through`
	interestDue            = `SELECT ` + interestAccountColumns + `
FROM interest_accounts i JOIN wallets w ON w.id = i.wallet_id
WHERE i.wallet_id > $1 AND i.accrued >= $2 AND i.credited_through < $3
ORDER BY i.wallet_id LIMIT $4`
	interestAccountByWallet = `SELECT ` + interestAccountColumns + `
FROM interest_accounts i JOIN wallets w ON w.id = i.wallet_id WHERE i.wallet_id = $1`
	interestCredit = `UPDATE interest_accounts SET accrued = accrued - $3, credited_through = $2
WHERE wallet_id = $1 AND credited_through < $2 AND accrued >= $3`
)

// accrualRows is how many wallets one statement of AddInterestAccruals writes: 3
// parameters each, well under both databases' limits.
const accrualRows = 500

// InterestRun implements hebao.Tx.
func (t *tx) InterestRun(_ context.Context, date string) (hebao.InterestRun, error) {
	if err := t.check(); err != nil {
		return hebao.InterestRun{}, err
	}
	return scanInterestRun(t.queryRow(interestRunByDate, date))
}

// LatestInterestRun implements hebao.Tx.
func (t *tx) LatestInterestRun(_ context.Context) (hebao.InterestRun, error) {
	if err := t.check(); err != nil {
		return hebao.InterestRun{}, err
	}
	return scanInterestRun(t.queryRow(interestRunLatest))
}

func scanInterestRun(row scanner) (hebao.InterestRun, error) {
	var (
		r                  hebao.InterestRun
		status             string
		started, updatedAt int64
	)
	err := row.Scan(&r.Date, &status, &r.Cursor, &r.RatePPM, &r.DayBasis, &r.Wallets, &r.Accrued, &r.Payees, &r.Credited, &started, &updatedAt)
	if isNoRows(err) {
		return r, hebao.Errorf(hebao.CodeNotFound, "no interest run")
	}
	if err != nil {
		return r, fmt.Errorf("read interest run: %w", err)
	}
	r.Status = hebao.InterestRunStatus(status)
	r.StartedAt, r.UpdatedAt = time.UnixMicro(started).UTC(), time.UnixMicro(updatedAt).UTC()
	return r, nil
}

// SaveInterestRun implements hebao.Tx.
func (t *tx) SaveInterestRun(_ context.Context, r hebao.InterestRun) error {
	_, err := t.execOwn(interestRunSave, r.Date, string(r.Status), r.Cursor, r.RatePPM, r.DayBasis, r.Wallets, r.Accrued,
		r.Payees, r.Credited, r.StartedAt.UnixMicro(), r.UpdatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("save interest run: %w", err)
	}
	return nil
}

func (t *tx) headSeq() (int64, error) {
	var seq int64
	if err := t.queryRow(ledgerHeadSeq).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read chain head: %w", err)
	}
	return seq, nil
}

// TransferSeqAt implements hebao.Tx: a binary search over the sequence numbers,
// about 30 reads of the primary key, since transfers have no index by time and their
// times follow their numbers (within the few minutes interest allows for).
func (t *tx) TransferSeqAt(_ context.Context, at time.Time) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	head, err := t.headSeq()
	if err != nil {
		return 0, err
	}
	lo, hi, want := int64(1), head+1, at.UnixMicro()
	for lo < hi {
		mid := lo + (hi-lo)/2
		var created int64
		err := t.queryRow(transferAtOrFrom, mid).Scan(&created)
		switch {
		case isNoRows(err):
			hi = mid
		case err != nil:
			return 0, fmt.Errorf("read transfer: %w", err)
		case created >= want:
			hi = mid
		default:
			lo = mid + 1
		}
	}
	return lo, nil
}

// NetPostings implements hebao.Tx. The head is read first, and only postings up to
// it are summed: on PostgreSQL's read-committed Views, a transfer committed between
// the two statements is then left out of both.
func (t *tx) NetPostings(_ context.Context, afterSeq int64, since time.Time) (map[hebao.AccountID]int64, int64, error) {
	if err := t.check(); err != nil {
		return nil, 0, err
	}
	head, err := t.headSeq()
	if err != nil {
		return nil, 0, err
	}
	net := map[hebao.AccountID]int64{}
	if head <= afterSeq {
		return net, afterSeq, nil
	}
	rs, err := t.query(netPostings, afterSeq, head, since.UnixMicro())
	if err != nil {
		return nil, 0, fmt.Errorf("read postings: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			id  hebao.AccountID
			sum int64
		)
		if err := rs.Scan(&id, &sum); err != nil {
			return nil, 0, t.fail(fmt.Errorf("read postings: %w", err))
		}
		net[id] = sum
	}
	if err := rs.Err(); err != nil {
		return nil, 0, t.fail(fmt.Errorf("read postings: %w", err))
	}
	return net, head, nil
}

// InterestWallets implements hebao.Tx.
func (t *tx) InterestWallets(_ context.Context, after string, createdBefore time.Time, limit int) ([]hebao.InterestWallet, error) {
	rs, err := t.query(interestWallets, after, createdBefore.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("read wallets: %w", err)
	}
	defer rs.Close()
	out := make([]hebao.InterestWallet, 0, limit)
	for rs.Next() {
		var w hebao.InterestWallet
		if err := rs.Scan(&w.WalletID, &w.Account, &w.Tier, &w.Balance); err != nil {
			return nil, t.fail(fmt.Errorf("read wallets: %w", err))
		}
		out = append(out, w)
	}
	if err := rs.Err(); err != nil {
		return nil, t.fail(fmt.Errorf("read wallets: %w", err))
	}
	return out, nil
}

// AddInterestAccruals implements hebao.Tx: an upsert of up to accrualRows wallets per
// statement, guarded by each row's last day so that no wallet accrues a day twice.
func (t *tx) AddInterestAccruals(_ context.Context, date string, as []hebao.InterestAccrual) error {
	for len(as) > 0 {
		n := min(len(as), accrualRows)
		q, args := accrualStatement(date, as[:n])
		if _, err := t.execOwn(q, args...); err != nil {
			return fmt.Errorf("add interest accruals: %w", err)
		}
		as = as[n:]
	}
	return nil
}

// accrualStatement is the upsert of some accruals; $1 is the date.
func accrualStatement(date string, as []hebao.InterestAccrual) (string, []any) {
	var b strings.Builder
	b.Grow(180 + 40*len(as))
	b.WriteString(`INSERT INTO interest_accounts (wallet_id, accrued, last_balance, last_date, credited_through) VALUES `)
	args := make([]any, 0, 1+3*len(as))
	args = append(args, date)
	for i, a := range as {
		if i > 0 {
			b.WriteByte(',')
		}
		n := 2 + 3*i
		b.WriteString("($")
		b.WriteString(strconv.Itoa(n))
		b.WriteString(", $")
		b.WriteString(strconv.Itoa(n + 1))
		b.WriteString(", $")
		b.WriteString(strconv.Itoa(n + 2))
		b.WriteString(", $1, '')")
		args = append(args, a.WalletID, a.Amount, a.Balance)
	}
	b.WriteString(` ON CONFLICT (wallet_id) DO UPDATE SET accrued = interest_accounts.accrued + excluded.accrued,
    last_balance = excluded.last_balance, last_date = excluded.last_date
WHERE interest_accounts.last_date < excluded.last_date`)
	return b.String(), args
}

// InterestDue implements hebao.Tx.
func (t *tx) InterestDue(_ context.Context, date string, minimum int64, after string, limit int) ([]hebao.InterestAccount, error) {
	rs, err := t.query(interestDue, after, minimum, date, limit)
	if err != nil {
		return nil, fmt.Errorf("read interest due: %w", err)
	}
	defer rs.Close()
	var out []hebao.InterestAccount
	for rs.Next() {
		a, err := scanInterestAccount(rs)
		if err != nil {
			return nil, t.fail(err)
		}
		out = append(out, a)
	}
	if err := rs.Err(); err != nil {
		return nil, t.fail(fmt.Errorf("read interest due: %w", err))
	}
	return out, nil
}

func scanInterestAccount(row scanner) (hebao.InterestAccount, error) {
	var a hebao.InterestAccount
	if err := row.Scan(&a.WalletID, &a.Account, &a.CustomerID, &a.Accrued, &a.LastDate, &a.LastBalance, &a.CreditedThrough); err != nil {
		return a, fmt.Errorf("read interest account: %w", err)
	}
	return a, nil
}

// CreditInterest implements hebao.Tx.
func (t *tx) CreditInterest(_ context.Context, walletID, date string, amount int64) error {
	n, err := t.execOwn(interestCredit, walletID, date, amount)
	if err != nil {
		return fmt.Errorf("credit interest: %w", err)
	}
	if n == 0 {
		return hebao.Errorf(hebao.CodeConflict, "the interest of wallet %s was credited on %s already", walletID, date)
	}
	return nil
}

// WalletInterest implements hebao.Tx.
func (t *tx) WalletInterest(_ context.Context, walletID string) (hebao.InterestAccount, error) {
	if err := t.check(); err != nil {
		return hebao.InterestAccount{}, err
	}
	a, err := scanInterestAccount(t.queryRow(interestAccountByWallet, walletID))
	if isNoRows(err) {
		return a, hebao.Errorf(hebao.CodeNotFound, "no interest accrued for this wallet")
	}
	return a, err
}
