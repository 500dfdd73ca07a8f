package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of movements, limit counters and the operator's accounts.
const (
	movementColumns = `id, wallet_id, account_id, customer_id, kind, status, amount, card_id, card_masked, card_sealed, bank_code,
counterparty, counterparty_name, memo, failure_code, ref, created_at, updated_at`
	movementInsert = `INSERT INTO movements (` + movementColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`
	movementByID      = `SELECT ` + movementColumns + ` FROM movements WHERE wallet_id = $1 AND id = $2`
	movementsByWallet = `SELECT ` + movementColumns + ` FROM movements WHERE wallet_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`
	movementsNewest   = `SELECT ` + movementColumns + ` FROM movements WHERE wallet_id = $1 ORDER BY id DESC LIMIT $2`
	// On SQLite the history index is by the wallet's account id alone (a small key
	// makes a small index, which each movement updates at a random place), and rows
	// are in the order they were committed: newest first is rowid DESC.
	sqliteMovementsByWallet = `SELECT ` + movementColumns + ` FROM movements
WHERE account_id = (SELECT account_id FROM wallets WHERE id = $1) AND rowid < (SELECT rowid FROM movements WHERE id = $2)
ORDER BY rowid DESC LIMIT $3`
	sqliteMovementsNewest = `SELECT ` + movementColumns + ` FROM movements
WHERE account_id = (SELECT account_id FROM wallets WHERE id = $1) ORDER BY rowid DESC LIMIT $2`
	movementFinish   = `UPDATE movements SET status = $3, failure_code = $4, updated_at = $5 WHERE wallet_id = $1 AND id = $2 AND status = 'pending'`
	movementsPending = `SELECT ` + movementColumns + ` FROM movements
WHERE status = 'pending' AND updated_at < $1 AND kind IN ('topup', 'withdrawal', 'refund') ORDER BY updated_at, id LIMIT $2`

	usageRead   = `SELECT day, day_total, year, year_total, pending_in, pending_out FROM wallet_usage WHERE wallet_id = $1`
	usageUpsert = `INSERT INTO wallet_usage (wallet_id, day, day_total, year, year_total, pending_in, pending_out) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (wallet_id) DO UPDATE SET day = excluded.day, day_total = excluded.day_total, year = excluded.year,
year_total = excluded.year_total, pending_in = excluded.pending_in, pending_out = excluded.pending_out`
	usageCreate = `INSERT INTO wallet_usage (wallet_id, day, day_total, year, year_total, pending_in, pending_out) VALUES ($1, 0, 0, 0, 0, 0, 0)`

	accountByOwner = `SELECT id, kind, unit, owner, may_go_negative, balance, created_at FROM accounts WHERE kind = $1 AND owner = $2 ORDER BY id LIMIT 1`
	deviceByID     = `SELECT customer_id, device_id, first_seen_at FROM devices WHERE customer_id = $1 AND device_id = $2`
)

// CreateMovement implements hebao.Tx. The movement is buffered and written at the
// batch's flush, like the transfers it explains; it can be read once committed.
func (t *tx) CreateMovement(_ context.Context, m hebao.Movement) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if m.ID == "" || m.WalletID == "" || m.Kind == "" || m.Status == "" || m.Amount <= 0 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a movement needs an id, a wallet, a kind, a status and a positive amount")
	}
	t.b.movements = append(t.b.movements, m)
	return nil
}

// buffered returns the index of the batch's buffered movement with this id and
// wallet, or -1.
func (t *tx) buffered(walletID, id string) int {
	for i := len(t.b.movements) - 1; i >= 0; i-- {
		if m := &t.b.movements[i]; m.ID == id && m.WalletID == walletID {
			return i
		}
	}
	return -1
}

// Movement implements hebao.Tx. A movement created earlier in the batch is read from
// the buffer.
func (t *tx) Movement(_ context.Context, walletID, id string) (hebao.Movement, error) {
	if err := t.check(); err != nil {
		return hebao.Movement{}, err
	}
	if i := t.buffered(walletID, id); i >= 0 {
		return t.b.movements[i], nil
	}
	m, err := scanMovement(t.queryRow(movementByID, walletID, id))
	if isNoRows(err) {
		return hebao.Movement{}, hebao.Errorf(hebao.CodeNotFound, "no such transaction")
	}
	if err != nil {
		return hebao.Movement{}, fmt.Errorf("read movement: %w", err)
	}
	return m, nil
}

// Movements implements hebao.Tx.
func (t *tx) Movements(_ context.Context, walletID, before string, limit int) ([]hebao.Movement, error) {
	newest, byWallet := movementsNewest, movementsByWallet
	if _, pg := t.b.w.(*pgTx); !pg {
		newest, byWallet = sqliteMovementsNewest, sqliteMovementsByWallet
	}
	if before == "" {
		return t.movements(newest, walletID, limit)
	}
	return t.movements(byWallet, walletID, before, limit)
}

// FinishMovement implements hebao.Tx. A movement created earlier in the batch is
// finished in the buffer.
func (t *tx) FinishMovement(_ context.Context, walletID, id string, status hebao.MovementStatus, failureCode string, at time.Time) (bool, error) {
	if err := t.checkWrite(); err != nil {
		return false, err
	}
	if i := t.buffered(walletID, id); i >= 0 {
		m := &t.b.movements[i]
		if m.Status != hebao.MovementPending {
			return false, nil
		}
		if i < t.nMoves { // an earlier closure's: restore it if this one fails
			if t.undoMoves == nil {
				t.undoMoves = map[int]hebao.Movement{}
			}
			if _, seen := t.undoMoves[i]; !seen {
				t.undoMoves[i] = *m
			}
		}
		m.Status, m.FailureCode, m.UpdatedAt = status, failureCode, at
		return true, nil
	}
	n, err := t.exec(movementFinish, walletID, id, string(status), failureCode, at.UnixMicro())
	if err != nil {
		return false, t.retryable(fmt.Errorf("finish movement: %w", err))
	}
	return n == 1, nil
}

// PendingMovements implements hebao.Tx.
func (t *tx) PendingMovements(_ context.Context, before time.Time, limit int) ([]hebao.Movement, error) {
	return t.movements(movementsPending, before.UnixMicro(), limit)
}

func (t *tx) movements(q string, args ...any) ([]hebao.Movement, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("read movements: %w", err)
	}
	defer rs.Close()
	var out []hebao.Movement
	for rs.Next() {
		m, err := scanMovement(rs)
		if err != nil {
			return nil, fmt.Errorf("read movements: %w", err)
		}
		out = append(out, m)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read movements: %w", err)
	}
	return out, nil
}

func scanMovement(row scanner) (hebao.Movement, error) {
	var (
		m                      hebao.Movement
		kind, status           string
		acct, created, updated int64
	)
	err := row.Scan(&m.ID, &m.WalletID, &acct, &m.CustomerID, &kind, &status, &m.Amount, &m.CardID, &m.CardMasked,
		&m.CardSealed, &m.BankCode, &m.Counterparty, &m.CounterpartyName, &m.Memo, &m.FailureCode, &m.Ref,
		&created, &updated)
	if err != nil {
		return m, err
	}
	m.Kind, m.Status, m.Account = hebao.MovementKind(kind), hebao.MovementStatus(status), hebao.AccountID(acct)
	m.CreatedAt, m.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return m, nil
}

// Usage implements hebao.Tx. A wallet's counters are read once per batch — and on
// PostgreSQL locked, so that another process counts after this batch commits — and
// then kept in the batch, where SaveUsage changes them for the flush to write.
func (t *tx) Usage(_ context.Context, walletID string) (hebao.Usage, error) {
	if err := t.check(); err != nil {
		return hebao.Usage{}, err
	}
	if st, ok := t.b.usage[walletID]; ok && !t.b.readOnly {
		return st.u, nil
	}
	q := usageRead
	if _, pg := t.b.w.(*pgTx); pg && !t.b.readOnly {
		q += ` FOR UPDATE`
	}
	u := hebao.Usage{WalletID: walletID}
	var day, year int64
	err := t.queryRow(q, walletID).Scan(&day, &u.DayTotal, &year, &u.YearTotal, &u.PendingIn, &u.PendingOut)
	if err != nil && !isNoRows(err) {
		return u, fmt.Errorf("read limit counters: %w", err)
	}
	u.Day, u.Year = int(day), int(year)
	if !t.b.readOnly {
		t.rememberUsage(walletID)
		t.b.usage[walletID] = &usageState{u: u}
	}
	return u, nil
}

// SaveUsage implements hebao.Tx.
func (t *tx) SaveUsage(ctx context.Context, u hebao.Usage) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if _, ok := t.b.usage[u.WalletID]; !ok {
		// Never seen in this batch: read (and lock) the row first.
		if _, err := t.Usage(ctx, u.WalletID); err != nil {
			return err
		}
	}
	t.rememberUsage(u.WalletID)
	t.b.usage[u.WalletID] = &usageState{u: u, dirty: true}
	return nil
}

// rememberUsage notes a wallet's counters before this closure first changes them.
func (t *tx) rememberUsage(walletID string) {
	if t.undoUsage == nil {
		t.undoUsage = map[string]*usageState{}
	}
	if _, ok := t.undoUsage[walletID]; ok {
		return
	}
	if st, ok := t.b.usage[walletID]; ok {
		c := *st
		t.undoUsage[walletID] = &c
	} else {
		t.undoUsage[walletID] = nil
	}
}

// AccountByOwner implements hebao.Tx.
func (t *tx) AccountByOwner(_ context.Context, kind hebao.AccountKind, owner string) (hebao.Account, error) {
	if err := t.check(); err != nil {
		return hebao.Account{}, err
	}
	a, err := scanAccount(t.queryRow(accountByOwner, string(kind), owner))
	if isNoRows(err) {
		return hebao.Account{}, hebao.Errorf(hebao.CodeNotFound, "no %s account of %q", kind, owner)
	}
	if err != nil {
		return hebao.Account{}, fmt.Errorf("read account: %w", err)
	}
	return a, nil
}

// Device implements hebao.Tx.
func (t *tx) Device(_ context.Context, customerID, deviceID string) (hebao.Device, error) {
	if err := t.check(); err != nil {
		return hebao.Device{}, err
	}
	var (
		d     hebao.Device
		first int64
	)
	err := t.queryRow(deviceByID, customerID, deviceID).Scan(&d.CustomerID, &d.ID, &first)
	if isNoRows(err) {
		return hebao.Device{}, hebao.Errorf(hebao.CodeNotFound, "device never seen")
	}
	if err != nil {
		return hebao.Device{}, fmt.Errorf("read device: %w", err)
	}
	d.FirstSeenAt = time.UnixMicro(first).UTC()
	return d, nil
}

func movementArgs(m hebao.Movement) []any {
	return []any{m.ID, m.WalletID, int64(m.Account), m.CustomerID, string(m.Kind), string(m.Status), m.Amount,
		m.CardID, m.CardMasked, m.CardSealed, m.BankCode, m.Counterparty, m.CounterpartyName, m.Memo,
		m.FailureCode, m.Ref, m.CreatedAt.UnixMicro(), m.UpdatedAt.UnixMicro()}
}

func usageArgs(u hebao.Usage) []any {
	return []any{u.WalletID, int64(u.Day), u.DayTotal, int64(u.Year), u.YearTotal, u.PendingIn, u.PendingOut}
}

// The reads of a payment, one statement each: on PostgreSQL one round trip, not four.
const (
	payerQuery = `SELECT w.id, w.customer_id, w.status, w.tier, w.account_id, w.promo_account_id, w.points_account_id, w.created_at,
c.phone, p.hash, p.failures, p.locked_until, p.updated_at, u.day, u.day_total, u.year, u.year_total, u.pending_in, u.pending_out
FROM wallets w JOIN customers c ON c.id = w.customer_id JOIN wallet_usage u ON u.wallet_id = w.id
LEFT JOIN payment_passwords p ON p.wallet_id = w.id
WHERE w.customer_id = $1`
	payeeColumns = `SELECT w.id, w.customer_id, w.status, w.tier, w.account_id, w.promo_account_id, w.points_account_id, w.created_at, c.phone,
u.day, u.day_total, u.year, u.year_total, u.pending_in, u.pending_out, a.kind, a.unit, a.owner, a.may_go_negative, a.balance, a.created_at
FROM wallets w JOIN customers c ON c.id = w.customer_id JOIN wallet_usage u ON u.wallet_id = w.id JOIN accounts a ON a.id = w.account_id`
	payeeByID    = payeeColumns + ` WHERE w.id = $1`
	payeeByPhone = payeeColumns + ` WHERE c.phone = $1`
)

// Payer implements hebao.Tx.
func (t *tx) Payer(_ context.Context, customerID string) (hebao.Payer, error) {
	if err := t.check(); err != nil {
		return hebao.Payer{}, err
	}
	if p, ok := t.cachedPayer(customerID); ok {
		return p, nil
	}
	p, ok := t.b.ahead.payer(customerID, t.b.rowsDirty)
	if !ok {
		q := payerQuery
		if _, pg := t.b.w.(*pgTx); pg && !t.b.readOnly {
			q += ` FOR UPDATE OF u`
		}
		var err error
		p, err = scanPayer(t.queryRow(q, customerID))
		if isNoRows(err) {
			return hebao.Payer{}, hebao.Errorf(hebao.CodeNotFound, "this customer has no wallet")
		}
		if err != nil {
			return hebao.Payer{}, err
		}
	}
	if t.b.rowsOK {
		row := payerRow{w: p.Wallet, phone: p.Phone}
		if p.Password != nil {
			pw := *p.Password
			row.pw = &pw
		}
		t.b.rows.full()
		t.b.rows.payers[customerID] = row
		t.b.rows.usage[p.Wallet.ID] = p.Usage
	}
	if !t.b.readOnly {
		if st, ok := t.b.usage[p.Wallet.ID]; ok {
			p.Usage = st.u // what earlier closures of this batch made of it
		} else {
			t.rememberUsage(p.Wallet.ID)
			t.b.usage[p.Wallet.ID] = &usageState{u: p.Usage}
		}
	}
	return p, nil
}

// scanPayer reads one row of payerQuery: the payer with their counters as stored.
func scanPayer(row scanner) (hebao.Payer, error) {
	var (
		p                           hebao.Payer
		w                           walletRow
		hash                        []byte
		failures, locked, updated   sql.NullInt64
		day, year, dayTotal, yTotal int64
		pending, pendingOut         int64
	)
	err := row.Scan(w.dest(&p.Wallet, &p.Phone, &hash, &failures, &locked, &updated,
		&day, &dayTotal, &year, &yTotal, &pending, &pendingOut)...)
	if isNoRows(err) {
		return p, err
	}
	if err != nil {
		return hebao.Payer{}, fmt.Errorf("read payer: %w", err)
	}
	w.fill(&p.Wallet)
	if hash != nil {
		pw := hebao.PaymentPassword{WalletID: p.Wallet.ID, State: hebao.PaymentPasswordState{Failures: int(failures.Int64)}}
		if len(hash) != len(pw.Hash) {
			return hebao.Payer{}, fmt.Errorf("payment password of %s: stored hash has %d bytes, want %d", p.Wallet.ID, len(hash), len(pw.Hash))
		}
		copy(pw.Hash[:], hash)
		if locked.Int64 != 0 {
			pw.State.LockedUntil = time.UnixMicro(locked.Int64).UTC()
		}
		pw.UpdatedAt = time.UnixMicro(updated.Int64).UTC()
		p.Password = &pw
	}
	p.Usage = hebao.Usage{WalletID: p.Wallet.ID, Day: int(day), DayTotal: dayTotal, Year: int(year), YearTotal: yTotal, PendingIn: pending, PendingOut: pendingOut}
	return p, nil
}

// Payee implements hebao.Tx. The same statement reads — and on PostgreSQL locks —
// the payee's limit counters and balance into the batch, so that the balance-cap
// check that follows (Usage, Accounts) needs no statement of its own.
func (t *tx) Payee(_ context.Context, walletID, phone string) (hebao.Wallet, string, error) {
	if err := t.check(); err != nil {
		return hebao.Wallet{}, "", err
	}
	if w, ph, ok := t.cachedPayee(walletID, phone); ok {
		return w, ph, nil
	}
	r, ok := t.b.ahead.payee(walletID, phone, t.b.rowsDirty)
	if !ok {
		q, arg := payeeByID, walletID
		if walletID == "" {
			q, arg = payeeByPhone, phone
		}
		if _, pg := t.b.w.(*pgTx); pg && !t.b.readOnly {
			q += ` FOR UPDATE OF u, a`
		}
		var err error
		r, err = scanPayee(t.queryRow(q, arg))
		if isNoRows(err) {
			return hebao.Wallet{}, "", hebao.Errorf(hebao.CodeNotFound, "no such wallet")
		}
		if err != nil {
			return hebao.Wallet{}, "", err
		}
	}
	w, ph, u := r.w, r.phone, r.u
	if t.b.rowsOK {
		t.b.rows.full()
		t.b.rows.payees[w.ID] = payeeRow{w: w, phone: ph}
		t.b.rows.phones[ph] = w.ID
		t.b.rows.usage[w.ID] = u
	}
	if !t.b.readOnly {
		if _, ok := t.b.usage[w.ID]; !ok {
			t.rememberUsage(w.ID)
			t.b.usage[w.ID] = &usageState{u: u}
		}
		if cur, ok := t.b.accounts[w.Account]; !ok || !cur.fresh {
			t.adopt(r.a)
		}
	}
	return w, ph, nil
}

// payeeRead is one row of the payee statements: the wallet, its holder's phone, its
// counters and its account as stored.
type payeeRead struct {
	w     hebao.Wallet
	phone string
	u     hebao.Usage
	a     hebao.Account
}

func scanPayee(row scanner) (payeeRead, error) {
	var (
		p          payeeRead
		r          walletRow
		day, year  int64
		kind, unit string
		created    int64
	)
	err := row.Scan(r.dest(&p.w, &p.phone, &day, &p.u.DayTotal, &year, &p.u.YearTotal, &p.u.PendingIn, &p.u.PendingOut,
		&kind, &unit, &p.a.Owner, &p.a.MayGoNegative, &p.a.Balance, &created)...)
	if isNoRows(err) {
		return p, err
	}
	if err != nil {
		return payeeRead{}, fmt.Errorf("read payee: %w", err)
	}
	r.fill(&p.w)
	p.u.WalletID, p.u.Day, p.u.Year = p.w.ID, int(day), int(year)
	p.a.ID, p.a.Kind, p.a.Unit, p.a.CreatedAt = p.w.Account, hebao.AccountKind(kind), hebao.Unit(unit), time.UnixMicro(created).UTC()
	return p, nil
}

// cachedPayer answers Payer from the committer's row cache, when the batch may
// trust it and it holds everything needed.
func (t *tx) cachedPayer(customerID string) (hebao.Payer, bool) {
	if !t.b.rowsOK {
		return hebao.Payer{}, false
	}
	row, ok := t.b.rows.payers[customerID]
	if !ok {
		return hebao.Payer{}, false
	}
	u, ok := t.batchUsage(row.w.ID)
	if !ok {
		return hebao.Payer{}, false
	}
	p := hebao.Payer{Wallet: row.w, Phone: row.phone, Usage: u}
	if row.pw != nil {
		pw := *row.pw
		p.Password = &pw
	}
	return p, true
}

// cachedPayee answers Payee from the committer's row cache, bringing the payee's
// counters and balance into the batch as the database read would.
func (t *tx) cachedPayee(walletID, phone string) (hebao.Wallet, string, bool) {
	if !t.b.rowsOK {
		return hebao.Wallet{}, "", false
	}
	if walletID == "" {
		if walletID = t.b.rows.phones[phone]; walletID == "" {
			return hebao.Wallet{}, "", false
		}
	}
	row, ok := t.b.rows.payees[walletID]
	if !ok {
		return hebao.Wallet{}, "", false
	}
	if _, ok := t.batchUsage(walletID); !ok {
		return hebao.Wallet{}, "", false
	}
	if cur, ok := t.b.accounts[row.w.Account]; !ok || !cur.fresh {
		// Exact, since no other connection has written since the last batch.
		a, ok := t.b.cache.get(row.w.Account)
		if !ok {
			return hebao.Wallet{}, "", false
		}
		t.adopt(a)
	}
	return row.w, row.phone, true
}

// batchUsage returns the wallet's counters as the batch has them, taking them
// from the row cache into the batch if it has not seen them yet.
func (t *tx) batchUsage(walletID string) (hebao.Usage, bool) {
	if st, ok := t.b.usage[walletID]; ok {
		return st.u, true
	}
	u, ok := t.b.rows.usage[walletID]
	if !ok {
		return hebao.Usage{}, false
	}
	t.rememberUsage(walletID)
	t.b.usage[walletID] = &usageState{u: u}
	return u, true
}

// walletRow holds the scanned columns of a wallet that need converting.
type walletRow struct {
	status                    string
	tier, acct, promo, points int64
	created                   int64
}

// dest returns the scan destinations of the wallet columns, then more.
func (r *walletRow) dest(w *hebao.Wallet, more ...any) []any {
	return append([]any{&w.ID, &w.CustomerID, &r.status, &r.tier, &r.acct, &r.promo, &r.points, &r.created}, more...)
}

func (r *walletRow) fill(w *hebao.Wallet) {
	w.Status, w.Tier = hebao.WalletStatus(r.status), int(r.tier)
	w.Account, w.PromoAccount, w.PointsAccount = hebao.AccountID(r.acct), hebao.AccountID(r.promo), hebao.AccountID(r.points)
	w.CreatedAt = time.UnixMicro(r.created).UTC()
}
