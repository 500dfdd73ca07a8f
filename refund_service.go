package hebao

import (
	"context"
	"crypto/sha256"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// RefundRequest is a merchant's POST /v1/merchant/refunds.
type RefundRequest struct {
	OutTradeNo  string
	OutRefundNo string
	Amount      int64
	Reason      string
}

// Validate checks the request's own fields.
// Errors: invalid_request.
func (r RefundRequest) Validate() error {
	if !ValidOutTradeNo(r.OutTradeNo) {
		return Errorf(CodeInvalidRequest, "out_trade_no must be 6 to 32 letters, digits, '_' or '-'")
	}
	if !ValidOutTradeNo(r.OutRefundNo) {
		return Errorf(CodeInvalidRequest, "out_refund_no must be 6 to 32 letters, digits, '_' or '-'")
	}
	if err := CheckAmount(r.Amount); err != nil {
		return err
	}
	if utf8.RuneCountInString(r.Reason) > MaxRefundReason || !utf8.ValidString(r.Reason) || strings.IndexFunc(r.Reason, unicode.IsControl) >= 0 {
		return Errorf(CodeInvalidRequest, "reason must be at most %d characters of text", MaxRefundReason)
	}
	return nil
}

func (r RefundRequest) hash() [32]byte {
	var b []byte
	for _, f := range []string{r.OutTradeNo, r.OutRefundNo, strconv.FormatInt(r.Amount, 10), r.Reason} {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
	}
	return sha256.Sum256(b)
}

// MerchantRefund is a refund as the merchant API and webhooks show it.
type MerchantRefund struct {
	ID          string        `json:"id"`
	OutRefundNo string        `json:"out_refund_no"`
	OutTradeNo  string        `json:"out_trade_no"`
	Status      string        `json:"status"` // SUCCESS; PROCESSING while a refund to a card waits for the bank
	Amount      int64         `json:"amount"`
	Reason      string        `json:"reason,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	Order       MerchantOrder `json:"order"`
}

// MerchantView returns the refund of o as its merchant sees it.
func (r Refund) MerchantView(o Order) MerchantRefund {
	status := r.Status
	if status == "" {
		status = "SUCCESS"
	}
	return MerchantRefund{ID: r.ID, OutRefundNo: r.OutRefundNo, OutTradeNo: r.OutTradeNo, Status: status, Amount: r.Amount,
		Reason: r.Reason, CreatedAt: r.CreatedAt.UTC(), Order: o.MerchantView()}
}

// Refund gives back r.Amount of the merchant's paid order to the wallet that paid it,
// once per out_refund_no (the same number with the same fields answers the first
// refund again, with others it is refused): partial refunds add up, never past the
// amount paid, at most MaxRefunds of them within RefundWindow of the payment. A
// frozen or closed wallet still receives its refund. The customer is notified and
// the merchant's webhook owed, in the transaction that moves the money.
// Errors: invalid_request, not_found, refund_exceeds_paid (unpaid, or more than is
// left), limit_exceeded (too many refunds, or too late), insufficient_funds (the
// settlement balance cannot cover it), idempotency_key_reused.
func (s *OrderService) Refund(ctx context.Context, m Merchant, r RefundRequest) (Refund, Order, bool, error) {
	if err := r.Validate(); err != nil {
		return Refund{}, Order{}, false, err
	}
	h := r.hash()
	var (
		out     Refund
		order   Order
		created bool
		toCard  *Movement // a refund to a card: started at the bank after the commit
	)
	err := s.Store.Transact(ctx, func(tx Tx) error {
		created, toCard = false, nil
		prior, err := tx.RefundByOutRefundNo(ctx, m.ID, r.OutRefundNo)
		switch {
		case err == nil && prior.RequestHash == h:
			out = prior
			if out.Status, err = refundStatus(ctx, tx, prior); err != nil {
				return err
			}
			order, err = tx.OrderByID(ctx, prior.OrderID)
			return err
		case err == nil:
			return Errorf(CodeIdempotencyKeyReused, "out_refund_no %s was used for a refund with other fields", r.OutRefundNo)
		case ErrorCode(err) != CodeNotFound:
			return err
		}
		o, err := tx.OrderByOutTradeNo(ctx, m.ID, r.OutTradeNo)
		if ErrorCode(err) == CodeNotFound {
			return Errorf(CodeNotFound, "no such order")
		}
		if err != nil {
			return err
		}
		now := nowIn(s.Now, tx)
		switch {
		case !o.Status.Paid():
			return Errorf(CodeRefundExceedsPaid, "order %s has not been paid: there is nothing to refund", o.OutTradeNo)
		case o.Refunds >= MaxRefunds:
			return Errorf(CodeLimitExceeded, "an order takes at most %d refunds", MaxRefunds)
		case now.Sub(o.PaidAt) > RefundWindow:
			return Errorf(CodeLimitExceeded, "an order can be refunded within a year of its payment")
		case r.Amount > o.Amount-o.Refunded:
			return Errorf(CodeRefundExceedsPaid, "only %s of order %s is left to refund", yuan(o.Amount-o.Refunded), o.OutTradeNo)
		}
		wal, err := tx.WalletByID(ctx, o.WalletID)
		if err != nil {
			return err
		}
		mch, err := tx.MerchantByID(ctx, m.ID)
		if err != nil {
			return err
		}
		out = Refund{ID: NewID("rfd"), MerchantID: m.ID, OrderID: o.ID, OutTradeNo: o.OutTradeNo, OutRefundNo: r.OutRefundNo,
			Amount: r.Amount, Reason: r.Reason, RequestHash: h, WalletID: wal.ID, CreatedAt: now, Status: "SUCCESS"}
		memo := r.Reason
		if memo == "" {
			memo = o.Subject
		}
		// Back to the original method: an order paid by card is refunded to that card,
		// while it is still bound (else to the wallet).
		if o.Method == "card" && o.CardID != "" && s.Bank != nil {
			card, err := findCard(ctx, tx, wal.CustomerID, o.CardID)
			switch {
			case err == nil:
				mv, err := s.refundToCard(ctx, tx, o, &out, mch, wal, card, memo, now)
				if err != nil {
					return err
				}
				toCard, order, created = &mv, o, true
				order.Status, order.Refunded, order.Refunds, order.UpdatedAt = OrderRefund, o.Refunded+r.Amount, o.Refunds+1, now
				return nil
			case ErrorCode(err) != CodeNotFound:
				return err
			}
		}
		// The share paid from red packets goes back to them, never as cash.
		prev := o
		postings, parts, err := refundPostings(ctx, tx, o, mch, wal, r.Amount)
		if err != nil {
			return err
		}
		t := &Transfer{ID: NewID("trf"), Kind: TransferRefund, Ref: out.ID, Postings: postings}
		if err := tx.Post(ctx, t); err != nil {
			if ErrorCode(err) == CodeInsufficientFunds {
				return Errorf(CodeInsufficientFunds, "the settlement balance cannot cover this refund")
			}
			return err
		}
		mv := Movement{ID: NewID("mov"), WalletID: wal.ID, Account: wal.Account, CustomerID: wal.CustomerID, Kind: MovementRefund,
			Status: MovementSucceeded, Amount: r.Amount, Counterparty: mch.ID, CounterpartyName: mch.Name, Memo: memo,
			Ref: out.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateMovement(ctx, mv); err != nil {
			return err
		}
		out.MovementID = mv.ID
		o = parts
		o.Status, o.Refunded, o.Refunds, o.UpdatedAt = OrderRefund, o.Refunded+r.Amount, o.Refunds+1, now
		// The points the refunded cash earned go back (SPEC §7).
		if o, err = reversePoints(ctx, tx, o, wal, out.ID); err != nil {
			return err
		}
		ok, err := tx.UpdateOrder(ctx, o, prev)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(CodeConflict, "order %s changed meanwhile; try again", o.OutTradeNo)
		}
		if err := tx.CreateRefund(ctx, out); err != nil {
			return err
		}
		if err := emitMovement(ctx, tx, mv, t.Balances[wal.Account]); err != nil {
			return err
		}
		order, created = o, true
		return oweEvent(ctx, tx, o, EventRefundSucceeded, out.MerchantView(o), now)
	})
	if err != nil {
		return Refund{}, Order{}, false, err
	}
	if toCard != nil {
		s.Bank.StartPending(*toCard)
	}
	if created && s.Committed != nil {
		s.Committed()
	}
	return out, order, created, nil
}

// refundToCard records, in tx, a refund of o to the card it was paid with: the money
// leaves the settlement account for the refunds in transit at once, and the bank is
// asked to credit the card once tx commits (BankService.record finishes it). It
// updates out, and returns the pending movement to start.
func (s *OrderService) refundToCard(ctx context.Context, tx Tx, o Order, out *Refund, mch Merchant, wal Wallet, card Card, memo string, now time.Time) (Movement, error) {
	transit, err := s.Bank.systemAccount(ctx, tx, AccountRefundsInTransit, "")
	if err != nil {
		return Movement{}, err
	}
	t := &Transfer{ID: NewID("trf"), Kind: TransferRefund, Ref: out.ID, Postings: Move(mch.Account, transit, CNY, out.Amount)}
	if err := tx.Post(ctx, t); err != nil {
		if ErrorCode(err) == CodeInsufficientFunds {
			return Movement{}, Errorf(CodeInsufficientFunds, "the settlement balance cannot cover this refund")
		}
		return Movement{}, err
	}
	mv := cardMovement(wal, card, MovementRefund, out.Amount, now)
	mv.Counterparty, mv.CounterpartyName, mv.Memo, mv.Ref = mch.ID, mch.Name, memo, out.ID
	if err := tx.CreateMovement(ctx, mv); err != nil {
		return Movement{}, err
	}
	out.MovementID, out.Status = mv.ID, "PROCESSING"
	prev := o
	o.Status, o.Refunded, o.Refunds, o.UpdatedAt = OrderRefund, o.Refunded+out.Amount, o.Refunds+1, now
	ok, err := tx.UpdateOrder(ctx, o, prev)
	if err != nil {
		return Movement{}, err
	}
	if !ok {
		return Movement{}, Errorf(CodeConflict, "order %s changed meanwhile; try again", o.OutTradeNo)
	}
	if err := tx.CreateRefund(ctx, *out); err != nil {
		return Movement{}, err
	}
	bal, err := accountBalance(ctx, tx, wal.Account)
	if err != nil {
		return Movement{}, err
	}
	return mv, emitMovement(ctx, tx, mv, bal)
}

// refundStatus is SUCCESS, or PROCESSING while r's refund to a card waits for the bank.
func refundStatus(ctx context.Context, tx Tx, r Refund) (string, error) {
	m, err := tx.Movement(ctx, r.WalletID, r.MovementID)
	if err != nil {
		return "", err
	}
	if m.Status == MovementPending {
		return "PROCESSING", nil
	}
	return "SUCCESS", nil
}

// GetRefund returns the merchant's refund with this out_refund_no and its order.
// Errors: not_found.
func (s *OrderService) GetRefund(ctx context.Context, m Merchant, outRefundNo string) (Refund, Order, error) {
	if !ValidOutTradeNo(outRefundNo) {
		return Refund{}, Order{}, Errorf(CodeNotFound, "no such refund")
	}
	var (
		r Refund
		o Order
	)
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		if r, err = tx.RefundByOutRefundNo(ctx, m.ID, outRefundNo); err != nil {
			return err
		}
		if r.Status, err = refundStatus(ctx, tx, r); err != nil {
			return err
		}
		o, err = tx.OrderByID(ctx, r.OrderID)
		return err
	})
	if ErrorCode(err) == CodeNotFound {
		err = Errorf(CodeNotFound, "no such refund")
	}
	return r, o, err
}

// refundParts divides a refund of amount from o between the parts of its payment:
// the coupon's subsidy (back to its campaign), the red packets (back to the promo
// balance) and the payer's cash. Each part gets its share of what has been refunded in
// all — its proportion of the running total, rounded down — but never more than it
// paid, and cash never more than the cash paid, so red-packet or coupon money never
// comes back as cash; whatever rounding leaves over goes to the red packets, then the
// subsidy. When the whole order has been refunded each part has had exactly what it
// paid.
func refundParts(o Order, amount int64) (subsidy, promo, cash int64) {
	total := o.Refunded + amount
	subsidy = max(0, min(o.Subsidy, share(Order{Amount: o.Amount}, o.Subsidy, total))-o.SubsidyRefunded)
	promo = max(0, min(o.PromoPaid, share(Order{Amount: o.Amount}, o.PromoPaid, total))-o.PromoRefunded)
	// Never more than the amount between them.
	if over := subsidy + promo - amount; over > 0 {
		cut := min(promo, over)
		promo, over = promo-cut, over-cut
		subsidy -= over
	}
	cash = amount - subsidy - promo
	cashLeft := (o.Amount - o.Subsidy - o.PromoPaid) - (o.Refunded - o.SubsidyRefunded - o.PromoRefunded)
	if over := cash - cashLeft; over > 0 {
		add := min(over, o.PromoPaid-o.PromoRefunded-promo)
		promo, over = promo+add, over-add
		subsidy += over
		cash = cashLeft
	}
	return subsidy, promo, cash
}

// refundPostings are the postings of a refund of amount from o (refundParts): out of
// the merchant's settlement account, into the coupon's campaign budget, the promo
// balance and the cash balance. The coupon itself is not given back. It returns o
// with the parts counted.
func refundPostings(ctx context.Context, tx Tx, o Order, mch Merchant, wal Wallet, amount int64) ([]Posting, Order, error) {
	ps := []Posting{{Account: mch.Account, Unit: CNY, Amount: -amount}}
	subsidy, promo, cash := refundParts(o, amount)
	if subsidy > 0 {
		c, err := tx.Coupon(ctx, o.CustomerID, o.CouponID)
		if err != nil {
			return nil, Order{}, err
		}
		cmp, err := tx.CampaignByID(ctx, c.CampaignID)
		if err != nil {
			return nil, Order{}, err
		}
		ps = append(ps, Posting{Account: cmp.Account, Unit: CNY, Amount: subsidy})
	}
	if promo > 0 {
		back, err := promoRefundable(ctx, tx, wal, promo)
		if err != nil {
			return nil, Order{}, err
		}
		if back.toPromo > 0 {
			ps = append(ps, Posting{Account: wal.PromoAccount, Unit: CNY, Amount: back.toPromo})
		}
		if back.toBudget > 0 {
			ps = append(ps, Posting{Account: back.budget, Unit: CNY, Amount: back.toBudget})
		}
	}
	if cash > 0 {
		ps = append(ps, Posting{Account: wal.Account, Unit: CNY, Amount: cash})
	}
	o.SubsidyRefunded += subsidy
	o.PromoRefunded += promo
	return ps, o, nil
}

// promoBack is where the red-packet share of a refund goes.
type promoBack struct {
	toPromo  int64
	toBudget int64
	budget   AccountID
}

// promoRefundable divides the red-packet share of a refund between the wallet's
// promo balance and the budget of a campaign that has ended. Red-packet money lives
// only as long as its campaign: the promo balance never holds more than the
// red packets of the campaigns not yet swept gave, so what a refund brings back
// beyond that belongs to a campaign already swept, and goes back to its budget (the
// latest-ending one), not to a balance no sweep would ever empty.
func promoRefundable(ctx context.Context, tx Tx, wal Wallet, promo int64) (promoBack, error) {
	gs, err := tx.WalletGrants(ctx, wal.ID)
	if err != nil {
		return promoBack{}, err
	}
	var (
		live  int64
		ended *WalletGrant
	)
	for i, g := range gs {
		if g.Kind != GrantOpeningRedPacket {
			continue
		}
		if g.SweptAt.IsZero() {
			live += g.Amount
		} else if ended == nil || g.EndsAt.After(ended.EndsAt) {
			ended = &gs[i]
		}
	}
	if ended == nil {
		return promoBack{toPromo: promo}, nil
	}
	held, err := accountBalance(ctx, tx, wal.PromoAccount)
	if err != nil {
		return promoBack{}, err
	}
	out := promoBack{toPromo: min(promo, max(0, live-held))}
	if out.toBudget = promo - out.toPromo; out.toBudget > 0 {
		c, err := tx.CampaignByID(ctx, ended.CampaignID)
		if err != nil {
			return promoBack{}, err
		}
		out.budget = c.Account
	}
	return out, nil
}
