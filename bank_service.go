package hebao

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// DefaultBankTimeout is how long a bank has to answer before the operation is
// cancelled at the bank and fails with bank_timeout.
const DefaultBankTimeout = 30 * time.Second

// BankService moves money between customers' cards and their wallets through the
// Bank connector (SPEC §5 充值, 提现). An operation is recorded as pending and
// committed first; the bank is called afterwards, outside every database
// transaction; its answer is recorded in a transaction of its own that finishes
// the operation only if it is still pending. A restart finds the operations still
// pending and asks the bank again under the same reference, which the bank applies
// at most once: each operation finishes or fails, never both and never twice.
//
// Top-up: pending (nothing moves, the amount is held against the balance cap) →
// succeeded (bank clearing → wallet) or failed. Withdrawal: pending (wallet →
// withdrawals in transit, at once) → succeeded (in transit → bank clearing) or failed
// (in transit → wallet: the hold is released).
type BankService struct {
	Store     Store
	Bank      Bank
	Keys      *Keyring // opens the sealed card numbers
	Tiers     TierLimits
	Passwords *PaymentPasswordService
	// OTP checks the step_up codes of large withdrawals from new devices.
	OTP OTPChecker
	// Timeout is the bank time-out; zero is DefaultBankTimeout.
	Timeout time.Duration
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
	Log *slog.Logger
	// Committed, if set, is called after each commit that announces a movement.
	Committed func()
	// AfterBank, if set, is called with each bank answer before it is recorded: the
	// crash tests end the process there.
	AfterBank func(m Movement, out BankOutcome)

	once     sync.Once
	mu       sync.Mutex
	inflight map[string]bool
	wg       sync.WaitGroup
	base     context.Context
	stop     context.CancelFunc
	accounts sync.Map // systemKey → AccountID
}

type systemKey struct {
	kind  AccountKind
	owner string
}

func (s *BankService) init() {
	s.once.Do(func() {
		s.inflight = map[string]bool{}
		s.base, s.stop = context.WithCancel(context.Background())
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
	})
}

func (s *BankService) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultBankTimeout
}

// TopupRequest is a customer's request to top up from a bound card (POST /v1/topups).
type TopupRequest struct {
	CustomerID string
	CardID     string
	Amount     int64
	Key        IdempotencyKey
	Reply      func(Movement) (Reply, error)
}

// WithdrawalRequest is a customer's request to withdraw to a bound card
// (POST /v1/withdrawals).
type WithdrawalRequest struct {
	CustomerID      string
	DeviceID        string // of the session: decides whether step-up applies
	CardID          string
	Amount          int64
	PaymentPassword string
	OTP             string // the step_up code, when one is needed
	Key             IdempotencyKey
	Reply           func(Movement) (Reply, error)
}

func checkCardRequest(cardID string, amount int64) error {
	if err := CheckAmount(amount); err != nil {
		return err
	}
	if !ValidID("card", cardID) {
		return Errorf(CodeInvalidRequest, "card_id is not a card id")
	}
	return nil
}

// Topup records a pending top-up of r.Amount from the customer's card, once per
// idempotency key, and asks the bank for the money in the background.
// Errors: invalid_request, not_found (no such card), wallet_frozen,
// balance_cap_exceeded, idempotency_key_reused, idempotency_key_in_use.
func (s *BankService) Topup(ctx context.Context, r TopupRequest) (Reply, error) {
	if err := checkCardRequest(r.CardID, r.Amount); err != nil {
		return Reply{}, err
	}
	s.init()
	tiers := s.Tiers.orDefault()
	var started *Movement
	reply, err := Once(ctx, s.Store, r.Key, func(tx Tx) (Reply, error) {
		started = nil
		now := nowIn(s.Now, tx)
		w, err := tx.WalletByCustomer(ctx, r.CustomerID)
		if err != nil {
			return Reply{}, err
		}
		if w.Status != WalletActive {
			return Reply{}, Errorf(CodeWalletFrozen, "this wallet is %s: it cannot be topped up", w.Status)
		}
		card, err := findCard(ctx, tx, r.CustomerID, r.CardID)
		if err != nil {
			return Reply{}, err
		}
		limits, err := tiers.For(w.Tier)
		if err != nil {
			return Reply{}, err
		}
		if err := checkCap(ctx, tx, w, limits, r.Amount, true); err != nil {
			return Reply{}, err
		}
		m := cardMovement(w, card, MovementTopup, r.Amount, now)
		if err := tx.CreateMovement(ctx, m); err != nil {
			return Reply{}, err
		}
		started = &m
		return r.Reply(m)
	})
	if err != nil {
		return Reply{}, err
	}
	if started != nil {
		s.start(*started)
	}
	return reply, nil
}

// Withdraw holds r.Amount of the customer's wallet at once, records a pending
// withdrawal to the card, once per idempotency key, and asks the bank to pay it
// out in the background; the hold is released if the bank refuses.
// Above StepUpAmount from a device first seen within a day it needs a step_up SMS
// code too, like a transfer.
// Errors: invalid_request, not_found (no such card), wallet_frozen,
// payment_password_wrong, payment_password_locked, step_up_required, otp_invalid,
// otp_expired, limit_exceeded, insufficient_funds, idempotency_key_reused,
// idempotency_key_in_use.
func (s *BankService) Withdraw(ctx context.Context, r WithdrawalRequest) (Reply, error) {
	if err := checkCardRequest(r.CardID, r.Amount); err != nil {
		return Reply{}, err
	}
	if r.OTP != "" && !validOTPCode(r.OTP) {
		return Reply{}, Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	pass, err := stepUp(ctx, s.Store, s.OTP, s.Now, r.CustomerID, r.DeviceID, r.Amount, r.OTP)
	if err != nil {
		return Reply{}, err
	}
	s.init()
	tiers := s.Tiers.orDefault()
	var started *Movement
	reply, err := Once(ctx, s.Store, r.Key, func(tx Tx) (Reply, error) {
		started = nil
		now := nowIn(s.Now, tx)
		who, err := tx.Payer(ctx, r.CustomerID)
		if err != nil {
			return Reply{}, err
		}
		w := who.Wallet
		if err := CanPay(w); err != nil {
			return Reply{}, err
		}
		if err := s.Passwords.checkIn(ctx, tx, w.ID, r.PaymentPassword, who.Password, now); err != nil {
			return Reply{}, err
		}
		card, err := findCard(ctx, tx, r.CustomerID, r.CardID)
		if err != nil {
			return Reply{}, err
		}
		limits, err := tiers.For(w.Tier)
		if err != nil {
			return Reply{}, err
		}
		if err := chargeOutgoing(ctx, tx, w, limits, r.Amount, now); err != nil {
			return Reply{}, err
		}
		if pass != nil {
			if err := s.OTP.Use(ctx, tx, *pass); err != nil {
				return Reply{}, err
			}
		}
		if err := pending(ctx, tx, w.ID, false, r.Amount); err != nil {
			return Reply{}, err
		}
		transit, err := s.systemAccount(ctx, tx, AccountWithdrawalsInTransit, "")
		if err != nil {
			return Reply{}, err
		}
		m := cardMovement(w, card, MovementWithdrawal, r.Amount, now)
		t := &Transfer{ID: NewID("trf"), Kind: TransferHold, Ref: m.ID, Postings: Move(w.Account, transit, CNY, r.Amount)}
		if err := tx.Post(ctx, t); err != nil {
			return Reply{}, err
		}
		if err := tx.CreateMovement(ctx, m); err != nil {
			return Reply{}, err
		}
		if err := emitMovement(ctx, tx, m, t.Balances[w.Account]); err != nil {
			return Reply{}, err
		}
		started = &m
		return r.Reply(m)
	})
	if err != nil {
		return Reply{}, err
	}
	if started != nil {
		s.remember(ctx, systemKey{AccountWithdrawalsInTransit, ""})
		s.committed()
		s.start(*started)
	}
	return reply, nil
}

func (s *BankService) committed() {
	if s.Committed != nil {
		s.Committed()
	}
}

func findCard(ctx context.Context, tx Tx, customerID, cardID string) (Card, error) {
	cards, err := tx.Cards(ctx, customerID)
	if err != nil {
		return Card{}, err
	}
	for _, c := range cards {
		if c.ID == cardID {
			return c, nil
		}
	}
	return Card{}, Errorf(CodeNotFound, "no such card")
}

func cardMovement(w Wallet, c Card, kind MovementKind, amount int64, now time.Time) Movement {
	id := NewID("mov")
	return Movement{ID: id, WalletID: w.ID, Account: w.Account, CustomerID: w.CustomerID, Kind: kind, Status: MovementPending,
		Amount: amount, CardID: c.ID, CardMasked: c.Masked, CardSealed: c.NumberSealed, BankCode: c.BankCode,
		Ref: id, CreatedAt: now, UpdatedAt: now}
}

// systemAccount returns the id of the operator's account of kind and owner,
// creating it the first time.
func (s *BankService) systemAccount(ctx context.Context, tx Tx, kind AccountKind, owner string) (AccountID, error) {
	k := systemKey{kind, owner}
	if id, ok := s.accounts.Load(k); ok {
		return id.(AccountID), nil
	}
	a, err := tx.AccountByOwner(ctx, kind, owner)
	if ErrorCode(err) == CodeNotFound {
		if a, err = NewAccount(kind, owner, "", false); err != nil {
			return 0, err
		}
		a, err = tx.CreateAccount(ctx, a)
	}
	if err != nil {
		return 0, err
	}
	// Remembered only once committed: a closure undone would leave a dead id.
	return a.ID, nil
}

// remember caches the operator's account ids used by a committed transaction.
func (s *BankService) remember(ctx context.Context, kinds ...systemKey) {
	missing := false
	for _, k := range kinds {
		if _, ok := s.accounts.Load(k); !ok {
			missing = true
		}
	}
	if !missing {
		return
	}
	_ = s.Store.View(ctx, func(tx Tx) error {
		for _, k := range kinds {
			if _, ok := s.accounts.Load(k); ok {
				continue
			}
			if a, err := tx.AccountByOwner(ctx, k.kind, k.owner); err == nil {
				s.accounts.Store(k, a.ID)
			}
		}
		return nil
	})
}

// start asks the bank about m in the background, unless this process already is.
func (s *BankService) start(m Movement) {
	s.mu.Lock()
	if s.inflight[m.ID] || s.base.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.inflight[m.ID] = true
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.inflight, m.ID)
			s.mu.Unlock()
			s.wg.Done()
		}()
		s.run(s.base, m)
	}()
}

// Close stops the background work and waits for it: bank calls in flight are
// abandoned, their operations left pending for the next start to finish.
func (s *BankService) Close() {
	s.init()
	s.stop()
	s.wg.Wait()
}

// run asks the bank to carry out m and records the answer. With no answer before
// the time-out, the order is cancelled at the bank, so it can never take effect
// later, and fails; if even the cancellation gets no answer, m stays pending for
// Recover.
func (s *BankService) run(ctx context.Context, m Movement) {
	number, err := s.Keys.Open(m.CardSealed, []byte(m.CustomerID))
	if err != nil {
		// The card key is gone (rotated out, say): the order cannot be sent, so void
		// it at the bank — which needs no card number — and fail it, rather than leave
		// it pending for ever.
		s.Log.Error("bank: cannot open the card number; cancelling the order", "movement", m.ID, "err", err)
		call, cancel := context.WithTimeout(ctx, s.timeout())
		out, err := s.Bank.Cancel(call, m.ID)
		cancel()
		if err != nil {
			return
		}
		if out.Status == BankCancelled {
			out = BankOutcome{Status: BankRefused, Code: CodeUnavailable}
		}
		if err := s.record(ctx, m, out); err != nil {
			s.Log.Error("bank: cannot record the answer; left pending", "movement", m.ID, "err", err)
		}
		return
	}
	o := BankOrder{Ref: m.ID, CardNumber: string(number), BankCode: m.BankCode, Amount: m.Amount}
	call, cancel := context.WithTimeout(ctx, s.timeout())
	var out BankOutcome
	if m.Kind == MovementTopup {
		out, err = s.Bank.Debit(call, o)
	} else {
		out, err = s.Bank.Credit(call, o)
	}
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down: the next start finishes it
		}
		s.Log.Warn("bank: no answer; cancelling", "movement", m.ID, "kind", m.Kind, "err", err)
		call, cancel := context.WithTimeout(ctx, s.timeout())
		out, err = s.Bank.Cancel(call, m.ID)
		cancel()
		if err != nil {
			s.Log.Warn("bank: cancel got no answer; left pending", "movement", m.ID, "err", err)
			return
		}
	}
	if s.AfterBank != nil {
		s.AfterBank(m, out)
	}
	if err := s.record(ctx, m, out); err != nil {
		s.Log.Error("bank: cannot record the answer; left pending", "movement", m.ID, "err", err)
	}
}

// record finishes m with the bank's answer, if it is still pending.
func (s *BankService) record(ctx context.Context, m Movement, out BankOutcome) error {
	status, code := MovementSucceeded, ""
	switch out.Status {
	case BankSucceeded:
	case BankCancelled:
		status, code = MovementFailed, CodeBankTimeout
	default:
		status, code = MovementFailed, out.Code
		if code != CodeBankInsufficientFunds && code != CodeUnavailable {
			code = CodeCardDeclined
		}
	}
	transitKey := systemKey{AccountWithdrawalsInTransit, ""}
	clearingKey := systemKey{AccountBankClearing, m.BankCode}
	finished := false
	var next *Movement // the next card's top-up, for an auto top-up that failed
	err := s.Store.Transact(ctx, func(tx Tx) error {
		finished, next = false, nil
		now := nowIn(s.Now, tx)
		ok, err := tx.FinishMovement(ctx, m.WalletID, m.ID, status, code, now)
		if err != nil || !ok {
			return err
		}
		w, err := tx.WalletByID(ctx, m.WalletID)
		if err != nil {
			return err
		}
		var t *Transfer
		switch {
		case m.Kind == MovementRefund:
			// A merchant's refund to a card: out of the refunds in transit to the bank,
			// or, if the card would not take it, into the wallet.
			transit, err := s.systemAccount(ctx, tx, AccountRefundsInTransit, "")
			if err != nil {
				return err
			}
			to := w.Account
			if status == MovementSucceeded {
				if to, err = s.systemAccount(ctx, tx, clearingKey.kind, clearingKey.owner); err != nil {
					return err
				}
			}
			t = &Transfer{ID: NewID("trf"), Kind: TransferRefund, Ref: m.Ref, Postings: Move(transit, to, CNY, m.Amount)}
		case m.Kind == MovementTopup:
			if err := pending(ctx, tx, w.ID, true, -m.Amount); err != nil {
				return err
			}
			if status == MovementSucceeded {
				clearing, err := s.systemAccount(ctx, tx, clearingKey.kind, clearingKey.owner)
				if err != nil {
					return err
				}
				t = &Transfer{ID: NewID("trf"), Kind: TransferTopup, Ref: m.ID, Postings: Move(clearing, w.Account, CNY, m.Amount)}
			}
		case status == MovementSucceeded: // a withdrawal paid out
			if err := pending(ctx, tx, w.ID, false, -m.Amount); err != nil {
				return err
			}
			transit, err := s.systemAccount(ctx, tx, transitKey.kind, transitKey.owner)
			if err != nil {
				return err
			}
			clearing, err := s.systemAccount(ctx, tx, clearingKey.kind, clearingKey.owner)
			if err != nil {
				return err
			}
			t = &Transfer{ID: NewID("trf"), Kind: TransferWithdrawal, Ref: m.ID, Postings: Move(transit, clearing, CNY, m.Amount)}
		default: // a withdrawal refused: release the hold, give back the limit
			transit, err := s.systemAccount(ctx, tx, transitKey.kind, transitKey.owner)
			if err != nil {
				return err
			}
			if err := unchargeOutgoing(ctx, tx, w.ID, m.Amount, m.CreatedAt, now); err != nil {
				return err
			}
			if err := pending(ctx, tx, w.ID, false, -m.Amount); err != nil {
				return err
			}
			t = &Transfer{ID: NewID("trf"), Kind: TransferRelease, Ref: m.ID, Postings: Move(transit, w.Account, CNY, m.Amount)}
		}
		var (
			balance int64
			known   bool
		)
		if t != nil {
			if err := tx.Post(ctx, t); err != nil {
				return err
			}
			balance, known = t.Balances[w.Account]
		}
		if !known {
			if balance, err = accountBalance(ctx, tx, w.Account); err != nil {
				return err
			}
		}
		m.Status, m.FailureCode, m.UpdatedAt = status, code, now
		if err := emitMovement(ctx, tx, m, balance); err != nil {
			return err
		}
		if m.Kind == MovementTopup {
			if next, err = s.afterTopup(ctx, tx, m, status, w, now); err != nil {
				return err
			}
		}
		if m.Kind == MovementRefund {
			if err := afterCardRefund(ctx, tx, m, status, w, balance, now); err != nil {
				return err
			}
		}
		finished = true
		return nil
	})
	if err != nil {
		return err
	}
	if finished {
		s.remember(ctx, transitKey, clearingKey)
		s.committed()
	}
	if next != nil {
		s.start(*next)
	}
	return nil
}

func accountBalance(ctx context.Context, tx Tx, id AccountID) (int64, error) {
	a, err := tx.Accounts(ctx, id)
	if err != nil {
		return 0, err
	}
	return a[id].Balance, nil
}

// Recover asks the bank again about every top-up and withdrawal pending for longer
// than the bank time-out that this process is not already asking about: the work
// a crash or a restart left unfinished. It returns how many it started; they finish
// in the background.
func (s *BankService) Recover(ctx context.Context) (int, error) {
	s.init()
	var pending []Movement
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		pending, err = tx.PendingMovements(ctx, nowIn(s.Now, tx).Add(-s.timeout()), 500)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, m := range pending {
		s.start(m)
	}
	return len(pending), nil
}

// Run calls Recover at once and then every interval until ctx ends, then stops the
// background work (Close).
func (s *BankService) Run(ctx context.Context, interval time.Duration) error {
	s.init()
	defer s.Close()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Recover(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.Log.Warn("bank: recovery scan failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
