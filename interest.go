package hebao

import (
	"context"
	"fmt"
	"math/bits"
	"time"
)

// Interest (计息, SPEC §7): the balances of real-named wallets earn interest at a
// yearly demand-deposit rate, accrued every China day on the day-end balance and
// credited four times a year, on the 20th of March, June, September and December,
// from the operator's interest-expense account.
//
// The rounding rule. A day's accrual is exact: the day-end balance in fen times the
// rate in parts per million (ppm), an integer of "fen-ppm-days" kept per wallet. At a
// credit, the wallet receives
//
//	floor(accrued / (1,000,000 × DayBasis)) fen
//
// and the remainder stays accrued for the next quarter, so nothing is rounded away
// but the last part of a fen, and that only until it grows into a whole one. With
// the default basis of 360 days (the People's Bank of China's rule for demand
// deposits, 日利率 = 年利率 / 360) and a rate of 0.35% (3,500 ppm), ¥10,000.00 kept
// for 92 days earns floor(1,000,000 × 3,500 × 92 / 360,000,000) = 894 fen, ¥8.94,
// and 0.444… fen is carried.

// MovementInterest is interest paid into a wallet, as its holder's history shows it.
const MovementInterest MovementKind = "interest"

// DefaultInterestDayBasis is the number of days in an interest year unless
// configured: the People's Bank of China's rule for demand deposits.
const DefaultInterestDayBasis = 360

// MaxInterestRatePPM bounds the yearly rate (10%): with it, a balance of up to
// 10^12 fen accrues a quarter without overflowing int64.
const MaxInterestRatePPM = 100_000

// InterestRunStatus is how far a day's interest job has got.
type InterestRunStatus string

// The states of a day's job: accruing (cursor: the last wallet id done), crediting
// (on a credit day, once every wallet has accrued; cursor: the last wallet paid), and
// done.
const (
	InterestAccruing  InterestRunStatus = "accruing"
	InterestCrediting InterestRunStatus = "crediting"
	InterestDone      InterestRunStatus = "done"
)

// InterestRun is the record of one day's interest job: the date is its idempotency
// key, and the cursor lets a crashed job continue where it stopped.
type InterestRun struct {
	Date      string // the China day, YYYY-MM-DD
	Status    InterestRunStatus
	Cursor    string // the last wallet id done in the current phase; "" before the first
	RatePPM   int64  // the yearly rate the run uses from start to end
	DayBasis  int64
	Wallets   int64 // wallets that accrued (a positive day-end balance)
	Accrued   int64 // the sum of the day's accruals, fen-ppm-days
	Payees    int64 // wallets credited (credit days)
	Credited  int64 // fen credited (credit days)
	StartedAt time.Time
	UpdatedAt time.Time
}

// InterestWallet is a wallet as the interest job reads it, with its current balance.
type InterestWallet struct {
	WalletID string
	Account  AccountID
	Tier     int
	Balance  int64
}

// InterestAccrual is one wallet's accrual for one day.
type InterestAccrual struct {
	WalletID string
	Balance  int64 // the day-end balance, fen
	Amount   int64 // Balance × rate in ppm: fen-ppm-days
}

// InterestAccount is one wallet's interest not yet paid.
type InterestAccount struct {
	WalletID        string
	Account         AccountID // the wallet's CNY account
	CustomerID      string
	Accrued         int64  // fen-ppm-days since the last credit, with the carried remainder
	LastDate        string // the last day accrued
	LastBalance     int64  // that day's day-end balance
	CreditedThrough string // the credit day last paid ("" if never)
}

// InterestTx is the part of Tx that keeps interest: the daily runs, each wallet's
// accrued interest, and the reads of the ledger that give day-end balances.
type InterestTx interface {
	// InterestRun returns the run of date; not_found if there is none.
	InterestRun(ctx context.Context, date string) (InterestRun, error)
	// LatestInterestRun returns the run of the latest date; not_found if none.
	LatestInterestRun(ctx context.Context) (InterestRun, error)
	// SaveInterestRun stores r, replacing the run of its date.
	SaveInterestRun(ctx context.Context, r InterestRun) error
	// TransferSeqAt returns the sequence number of the first transfer created at or
	// after at, or the chain head's plus one when there is none.
	TransferSeqAt(ctx context.Context, at time.Time) (int64, error)
	// NetPostings returns, by account, the sum of the postings of the transfers
	// after seq afterSeq created at or after since, and the sequence number of the
	// last transfer it read (the chain head as the transaction sees it). The
	// balances the transaction reads are consistent with it.
	NetPostings(ctx context.Context, afterSeq int64, since time.Time) (map[AccountID]int64, int64, error)
	// InterestWallets returns up to limit wallets created before createdBefore with
	// ids above after, in id order, with their current balances.
	InterestWallets(ctx context.Context, after string, createdBefore time.Time, limit int) ([]InterestWallet, error)
	// AddInterestAccruals adds each accrual to its wallet's interest, as of date; a
	// wallet that has accrued date or a later day already is left as it is.
	AddInterestAccruals(ctx context.Context, date string, as []InterestAccrual) error
	// InterestDue returns up to limit wallets, ids above after in id order, with at
	// least min accrued and not yet credited on date.
	InterestDue(ctx context.Context, date string, min int64, after string, limit int) ([]InterestAccount, error)
	// CreditInterest takes amount (fen-ppm-days) from the wallet's accrued interest
	// and marks it credited on date; conflict if it was credited on date already or
	// has less accrued.
	CreditInterest(ctx context.Context, walletID, date string, amount int64) error
	// WalletInterest returns the wallet's interest account; not_found if it has never
	// accrued.
	WalletInterest(ctx context.Context, walletID string) (InterestAccount, error)
}

// EarnsInterest says whether a wallet of this tier earns interest: real-named wallets,
// tiers 1 to 3 (SPEC §7). Its status does not matter: a frozen wallet's money is
// still its holder's.
func EarnsInterest(tier int) bool { return tier >= 1 && tier <= 3 }

// DailyAccrual is one day's accrual on a day-end balance at a yearly rate in ppm:
// balance × rate fen-ppm-days, 0 for a balance of zero or less.
// Errors: invalid_request when the product does not fit in int64.
func DailyAccrual(balance, ratePPM int64) (int64, error) {
	if balance <= 0 || ratePPM <= 0 {
		return 0, nil
	}
	hi, lo := bits.Mul64(uint64(balance), uint64(ratePPM))
	if hi != 0 || lo > 1<<63-1 {
		return 0, Errorf(CodeInvalidRequest, "interest on a balance of %d fen does not fit", balance)
	}
	return int64(lo), nil
}

// InterestSplit divides accrued fen-ppm-days into whole fen to credit and the
// remainder to carry, on a year of dayBasis days: the rounding rule (floor, carry
// the rest).
func InterestSplit(accrued, dayBasis int64) (fen, carry int64) {
	if accrued <= 0 {
		return 0, accrued
	}
	d := 1_000_000 * dayBasis
	return accrued / d, accrued % d
}

// IsInterestCreditDay says whether the China day date is a credit day: the 20th of
// March, June, September or December.
func IsInterestCreditDay(day time.Time) bool {
	return day.Day() == 20 && day.Month()%3 == 0
}

// ParseInterestDate returns the start of the China day that date, YYYY-MM-DD, names.
// Errors: invalid_request.
func ParseInterestDate(date string) (time.Time, error) {
	day, err := time.ParseInLocation(time.DateOnly, date, chinaTime)
	if err != nil || day.Format(time.DateOnly) != date || day.Year() < 2000 {
		return time.Time{}, Errorf(CodeInvalidRequest, "an interest date must be a day written YYYY-MM-DD, such as 2026-11-25")
	}
	return day, nil
}

// InterestService runs the daily interest job (SPEC §7).
type InterestService struct {
	Store Store
	// AnnualRatePPM is the yearly rate in parts per million: 3,500 is 0.35%. A run
	// keeps the rate it started with, even when resumed under another.
	AnnualRatePPM int64
	// DayBasis is the number of days in an interest year; 0 means
	// DefaultInterestDayBasis (360).
	DayBasis int64
	// Chunk is how many wallets one transaction accrues; 0 means 10,000. A credit
	// pays a tenth as many per transaction.
	Chunk int
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Progress, if set, is told the run after each transaction of it commits.
	Progress func(InterestRun)
}

func (s *InterestService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *InterestService) chunk() int {
	if s.Chunk > 0 {
		return s.Chunk
	}
	return 10_000
}

// interestLag is how far before a day's end the search for its last transfers
// starts: transfers are numbered in commit order, and their times may be out of
// order by a little where several processes share a database.
const interestLag = 5 * time.Minute

// Accrue runs the interest job of the China day date: each real-named wallet
// accrues its day-end balance's interest and, on a credit day, every wallet with
// a fen or more accrued is paid. Running a date again pays nothing twice: a date
// done returns its run, a date half done continues where it stopped. Days are run
// in order: a day needs the one before it done, unless no day ever ran.
// Errors: invalid_request (a malformed date, a bad rate), conflict (the day has
// not ended, or the day before it has not run).
func (s *InterestService) Accrue(ctx context.Context, date string) (InterestRun, error) {
	day, err := ParseInterestDate(date)
	if err != nil {
		return InterestRun{}, err
	}
	end := day.AddDate(0, 0, 1)
	if s.now().Before(end) {
		return InterestRun{}, Errorf(CodeConflict, "interest for %s can be accrued once the day has ended in China time (UTC+8)", date)
	}
	run, err := s.start(ctx, date, day)
	if err != nil || run.Status == InterestDone {
		return run, err
	}
	if run.Status == InterestAccruing {
		if run, err = s.accrue(ctx, run, end); err != nil {
			return run, err
		}
	}
	if run.Status == InterestCrediting {
		return s.credit(ctx, run)
	}
	return run, nil
}

// start returns the run of date, creating it when the day before is done.
func (s *InterestService) start(ctx context.Context, date string, day time.Time) (InterestRun, error) {
	basis := s.DayBasis
	if basis == 0 {
		basis = DefaultInterestDayBasis
	}
	if s.AnnualRatePPM < 0 || s.AnnualRatePPM > MaxInterestRatePPM || basis < 360 || basis > 366 {
		return InterestRun{}, Errorf(CodeInvalidRequest, "an interest rate must be 0 to %d ppm, and a year 360 to 366 days", MaxInterestRatePPM)
	}
	var run InterestRun
	err := s.Store.Transact(ctx, func(tx Tx) error {
		r, err := tx.InterestRun(ctx, date)
		if err == nil {
			run = r
			return nil
		}
		if ErrorCode(err) != CodeNotFound {
			return err
		}
		last, err := tx.LatestInterestRun(ctx)
		switch {
		case ErrorCode(err) == CodeNotFound:
		case err != nil:
			return err
		case last.Date > date:
			return Errorf(CodeConflict, "interest has run for %s already: a day before it cannot run after it", last.Date)
		case last.Date != day.AddDate(0, 0, -1).Format(time.DateOnly):
			return Errorf(CodeConflict, "interest has run up to %s: run the days after it first", last.Date)
		case last.Status != InterestDone:
			return Errorf(CodeConflict, "interest for %s has not finished: run it again first", last.Date)
		}
		now := tx.Now()
		run = InterestRun{Date: date, Status: InterestAccruing, RatePPM: s.AnnualRatePPM, DayBasis: basis, StartedAt: now, UpdatedAt: now}
		return tx.SaveInterestRun(ctx, run)
	})
	return run, err
}

// accrue adds the day's interest of every wallet, a chunk per transaction. The
// day-end balance is the current balance less the postings made since the day
// ended: those are read once, from a snapshot, and then only the newer ones in
// each chunk's own transaction, where the balances are read too.
func (s *InterestService) accrue(ctx context.Context, run InterestRun, end time.Time) (InterestRun, error) {
	var (
		net     map[AccountID]int64
		through int64
	)
	err := s.Store.View(ctx, func(tx Tx) error {
		first, err := tx.TransferSeqAt(ctx, end.Add(-interestLag))
		if err != nil {
			return err
		}
		net, through, err = tx.NetPostings(ctx, first-1, end)
		return err
	})
	if err != nil {
		return run, err
	}
	day, _ := ParseInterestDate(run.Date)
	credit := IsInterestCreditDay(day)
	for run.Status == InterestAccruing {
		var (
			next  InterestRun
			delta map[AccountID]int64
			head  int64
		)
		err := s.Store.Transact(ctx, func(tx Tx) error {
			r, err := tx.InterestRun(ctx, run.Date)
			if err != nil || r.Status != InterestAccruing {
				next = r
				return err
			}
			if delta, head, err = tx.NetPostings(ctx, through, end); err != nil {
				return err
			}
			ws, err := tx.InterestWallets(ctx, r.Cursor, end, s.chunk())
			if err != nil {
				return err
			}
			if len(ws) == 0 {
				r.Status, r.Cursor = InterestDone, ""
				if credit {
					r.Status = InterestCrediting
				}
			} else {
				as := make([]InterestAccrual, 0, len(ws))
				for _, w := range ws {
					if !EarnsInterest(w.Tier) {
						continue
					}
					bal := w.Balance - net[w.Account] - delta[w.Account]
					a, err := DailyAccrual(bal, r.RatePPM)
					if err != nil {
						return fmt.Errorf("wallet %s: %w", w.WalletID, err)
					}
					if a == 0 {
						continue
					}
					as = append(as, InterestAccrual{WalletID: w.WalletID, Balance: bal, Amount: a})
					r.Wallets++
					r.Accrued += a
				}
				if err := tx.AddInterestAccruals(ctx, r.Date, as); err != nil {
					return err
				}
				r.Cursor = ws[len(ws)-1].WalletID
			}
			r.UpdatedAt = tx.Now()
			next = r
			return tx.SaveInterestRun(ctx, r)
		})
		if err != nil {
			return run, err
		}
		// Only now, committed, do the newer postings join the ones known.
		for id, v := range delta {
			net[id] += v
		}
		if head > through {
			through = head
		}
		run = next
		s.progress(run)
	}
	return run, nil
}

// credit pays every wallet with a fen or more accrued: one ledger transfer from the
// interest-expense account and one movement in the wallet's history each.
func (s *InterestService) credit(ctx context.Context, run InterestRun) (InterestRun, error) {
	limit := max(s.chunk()/10, 1)
	for run.Status == InterestCrediting {
		var next InterestRun
		err := s.Store.Transact(ctx, func(tx Tx) error {
			r, err := tx.InterestRun(ctx, run.Date)
			if err != nil || r.Status != InterestCrediting {
				next = r
				return err
			}
			unit := 1_000_000 * r.DayBasis
			due, err := tx.InterestDue(ctx, r.Date, unit, r.Cursor, limit)
			if err != nil {
				return err
			}
			if len(due) == 0 {
				r.Status, r.Cursor = InterestDone, ""
			} else {
				expense, err := interestExpenseAccount(ctx, tx)
				if err != nil {
					return err
				}
				now := tx.Now()
				for _, a := range due {
					fen, _ := InterestSplit(a.Accrued, r.DayBasis)
					m := Movement{ID: NewID("mov"), WalletID: a.WalletID, Account: a.Account, CustomerID: a.CustomerID,
						Kind: MovementInterest, Status: MovementSucceeded, Amount: fen, Memo: "interest to " + r.Date,
						CreatedAt: now, UpdatedAt: now}
					m.Ref = m.ID
					t := &Transfer{ID: NewID("trf"), Kind: TransferInterest, Ref: m.ID, Postings: Move(expense, a.Account, CNY, fen)}
					if err := tx.Post(ctx, t); err != nil {
						return err
					}
					if err := tx.CreditInterest(ctx, a.WalletID, r.Date, fen*unit); err != nil {
						return err
					}
					if err := tx.CreateMovement(ctx, m); err != nil {
						return err
					}
					if err := emitMovement(ctx, tx, m, t.Balances[a.Account]); err != nil {
						return err
					}
					r.Payees++
					r.Credited += fen
				}
				r.Cursor = due[len(due)-1].WalletID
			}
			r.UpdatedAt = tx.Now()
			next = r
			return tx.SaveInterestRun(ctx, r)
		})
		if err != nil {
			return run, err
		}
		run = next
		s.progress(run)
	}
	return run, nil
}

func (s *InterestService) progress(r InterestRun) {
	if s.Progress != nil {
		s.Progress(r)
	}
}

// interestExpenseAccount returns the operator's interest-expense account, creating
// it the first time: it may go below zero, being what the operator pays out.
func interestExpenseAccount(ctx context.Context, tx Tx) (AccountID, error) {
	a, err := tx.AccountByOwner(ctx, AccountInterestExpense, "")
	if ErrorCode(err) == CodeNotFound {
		if a, err = NewAccount(AccountInterestExpense, "", "", false); err != nil {
			return 0, err
		}
		a, err = tx.CreateAccount(ctx, a)
	}
	return a.ID, err
}

// Pending returns the days whose job is due, oldest first: from the day after the
// latest run (or that run itself if unfinished) to the last China day that ended a
// minute ago or more. With no run ever, it is that last day alone.
func (s *InterestService) Pending(ctx context.Context) ([]string, error) {
	today := startOfChinaDay(s.now().Add(-interestStartDelay))
	var from time.Time
	err := s.Store.View(ctx, func(tx Tx) error {
		last, err := tx.LatestInterestRun(ctx)
		if ErrorCode(err) == CodeNotFound {
			from = today.AddDate(0, 0, -1)
			return nil
		}
		if err != nil {
			return err
		}
		if from, err = ParseInterestDate(last.Date); err != nil {
			return err
		}
		if last.Status == InterestDone {
			from = from.AddDate(0, 0, 1)
		}
		return nil
	})
	var days []string
	for d := from; d.Before(today); d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format(time.DateOnly))
	}
	return days, err
}

func startOfChinaDay(t time.Time) time.Time {
	y, m, d := t.In(chinaTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
}

// interestStartDelay is how long after midnight, China time, the scheduler starts
// a day's job: time for the last batches of the day before to commit.
const interestStartDelay = time.Minute

// Run is the scheduler of `hebao serve`: it runs every day that is due (catching
// up the days a stopped server missed, in order), then sleeps until a minute past
// the next China midnight, until ctx ends. Errors are told to log and the work is
// tried again ten minutes later; a run interrupted by anything continues where it
// stopped.
func (s *InterestService) Run(ctx context.Context, log func(error)) {
	for {
		wait := 10 * time.Minute
		days, err := s.Pending(ctx)
		for _, d := range days {
			if err != nil {
				break
			}
			_, err = s.Accrue(ctx, d)
		}
		if err != nil && ctx.Err() == nil {
			log(fmt.Errorf("interest: %w", err))
		}
		if err == nil {
			next := startOfChinaDay(s.now()).AddDate(0, 0, 1).Add(interestStartDelay)
			wait = next.Sub(s.now())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
