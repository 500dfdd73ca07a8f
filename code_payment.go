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

// CodePaymentRequest is a till's POST /v1/merchant/code-payments: it read a
// customer's payment code (auth_code) and asks for amount.
type CodePaymentRequest struct {
	OutTradeNo string
	AuthCode   string
	Amount     int64
	Subject    string
}

// Validate checks the request's own fields.
// Errors: invalid_request.
func (r CodePaymentRequest) Validate() error {
	if !ValidOutTradeNo(r.OutTradeNo) {
		return Errorf(CodeInvalidRequest, "out_trade_no must be 6 to 32 letters, digits, '_' or '-'")
	}
	if len(r.AuthCode) != PaymentCodeDigits || strings.IndexFunc(r.AuthCode, func(c rune) bool { return c < '0' || c > '9' }) >= 0 {
		return Errorf(CodeInvalidRequest, "auth_code must be the %d digits the till read", PaymentCodeDigits)
	}
	if err := CheckAmount(r.Amount); err != nil {
		return err
	}
	if strings.TrimSpace(r.Subject) == "" || utf8.RuneCountInString(r.Subject) > MaxSubject || !utf8.ValidString(r.Subject) || strings.IndexFunc(r.Subject, unicode.IsControl) >= 0 {
		return Errorf(CodeInvalidRequest, "subject must be 1 to %d characters of text", MaxSubject)
	}
	return nil
}

// hash covers the fields that make the order: a till retrying with a fresh code
// after a network error is the same order.
func (r CodePaymentRequest) hash() [32]byte {
	var b []byte
	for _, f := range []string{"code", r.OutTradeNo, strconv.FormatInt(r.Amount, 10), r.Subject} {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
	}
	return sha256.Sum256(b)
}

// PayByCode takes a payment at a till from the customer whose payment code it read
// (SPEC §5 付款码). Within the customer's password-free allowance the order is paid at
// once (SUCCESS); otherwise it waits, USERPAYING, for the customer to confirm with the
// payment password in the app (who is told at once), and closes after
// PaymentCodeLifetime. The same out_trade_no again with the same fields answers the
// order as it stands, without reading a code again.
// Errors: invalid_request, payment_code_invalid, idempotency_key_reused,
// wallet_frozen, limit_exceeded, insufficient_funds, unavailable.
func (s *OrderService) PayByCode(ctx context.Context, m Merchant, r CodePaymentRequest) (Order, bool, error) {
	if err := r.Validate(); err != nil {
		return Order{}, false, err
	}
	if s.Codes == nil {
		return Order{}, false, Errorf(CodeUnavailable, "payment codes are not configured on this server")
	}
	h := r.hash()
	tiers := s.Tiers.orDefault()
	var (
		out     Order
		created bool
	)
	err := s.Store.Transact(ctx, func(tx Tx) error {
		created = false
		prior, err := tx.OrderByOutTradeNo(ctx, m.ID, r.OutTradeNo)
		switch {
		case err == nil && prior.RequestHash == h:
			out = prior
			return nil
		case err == nil:
			return Errorf(CodeIdempotencyKeyReused, "out_trade_no %s was used for an order with other fields", r.OutTradeNo)
		case ErrorCode(err) != CodeNotFound:
			return err
		}
		now := nowIn(s.Now, tx)
		customerID, err := s.Codes.take(ctx, tx, r.AuthCode, now)
		if err != nil {
			return err
		}
		who, err := tx.Payer(ctx, customerID)
		if err != nil {
			return err
		}
		payer := who.Wallet
		if err := CanPay(payer); err != nil {
			return err
		}
		mch, err := tx.MerchantByID(ctx, m.ID)
		if err != nil {
			return err
		}
		o := Order{ID: NewID("ord"), MerchantID: m.ID, OutTradeNo: r.OutTradeNo, Kind: OrderCode, Amount: r.Amount, Subject: r.Subject,
			Status: OrderNotPaid, RequestHash: h, CustomerID: customerID, WalletID: payer.ID,
			CreatedAt: now, ExpiresAt: now.Add(PaymentCodeLifetime), UpdatedAt: now}
		free, err := passwordFree(ctx, tx, payer, r.Amount, now)
		if err != nil {
			return err
		}
		if free {
			limits, err := tiers.For(payer.Tier)
			if err != nil {
				return err
			}
			if err := chargeOutgoing(ctx, tx, payer, limits, r.Amount, now); err != nil {
				return err
			}
			if err := tx.CreateOrder(ctx, o); err != nil {
				return err
			}
			out, _, err = payOrder(ctx, tx, o, payer, "password_free", now)
			created = err == nil
			return err
		}
		// The customer confirms in the app: the payment waits in their history, and
		// the notification of it tells them a till is waiting.
		mv := Movement{ID: NewID("mov"), WalletID: payer.ID, Account: payer.Account, CustomerID: customerID, Kind: MovementPayment,
			Status: MovementPending, Amount: r.Amount, Counterparty: mch.ID, CounterpartyName: mch.Name, Memo: r.Subject,
			Ref: o.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateMovement(ctx, mv); err != nil {
			return err
		}
		o.Status, o.MovementID = OrderUserPaying, mv.ID
		if err := tx.CreateOrder(ctx, o); err != nil {
			return err
		}
		as, err := tx.Accounts(ctx, payer.Account)
		if err != nil {
			return err
		}
		out, created = o, true
		return emitMovement(ctx, tx, mv, as[payer.Account].Balance)
	})
	if err != nil {
		return Order{}, false, err
	}
	if created && s.Committed != nil {
		s.Committed()
	}
	return out, created, nil
}

// passwordFree says whether a till may take amount from w without the payment
// password: the customer's allowance allows it per payment and today's count of
// such payments (China day) is below PasswordFreeDaily.
func passwordFree(ctx context.Context, tx Tx, w Wallet, amount int64, now time.Time) (bool, error) {
	set, err := tx.WalletSettings(ctx, w.ID)
	if err != nil {
		return false, err
	}
	if !set.PasswordFree || amount > set.PasswordFreeLimit {
		return false, nil
	}
	n, err := tx.PasswordFreePayments(ctx, w.CustomerID, chinaDayStart(now))
	return n < PasswordFreeDaily, err
}

// chinaDayStart is the start of now's day in China time (UTC+8).
func chinaDayStart(now time.Time) time.Time {
	c := now.In(chinaTime)
	return time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, chinaTime)
}

// ConfirmRequest is a customer's POST /v1/payment-codes/confirm: the payment password
// for a till's order waiting for them.
type ConfirmRequest struct {
	CustomerID      string
	DeviceID        string
	OrderID         string
	PaymentPassword string
	OTP             string
	Key             IdempotencyKey
	Reply           func(Order, Movement) (Reply, error)
}

// Confirm pays the till's order waiting for the customer (USERPAYING), with their
// payment password, once per idempotency key.
// Errors: invalid_request, not_found (none, or another customer's), order_closed
// (closed, or PaymentCodeLifetime passed), order_already_paid, wallet_frozen,
// payment_password_wrong, payment_password_locked, step_up_required,
// otp_invalid, otp_expired, limit_exceeded, insufficient_funds,
// idempotency_key_reused, idempotency_key_in_use.
func (s *OrderService) Confirm(ctx context.Context, r ConfirmRequest) (Reply, error) {
	if !ValidID("ord", r.OrderID) {
		return Reply{}, Errorf(CodeNotFound, "no such order")
	}
	if r.OTP != "" && !validOTPCode(r.OTP) {
		return Reply{}, Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	if rep, err := Replayed(ctx, s.Store, r.Key); err != nil || rep != nil {
		if rep != nil {
			return *rep, nil
		}
		return Reply{}, err
	}
	var amount int64
	err := s.Store.View(ctx, func(tx Tx) error {
		o, err := tx.OrderByID(ctx, r.OrderID)
		if err == nil && (o.Kind != OrderCode || o.CustomerID != r.CustomerID) {
			err = Errorf(CodeNotFound, "no such order")
		}
		amount = o.Amount
		return err
	})
	if ErrorCode(err) == CodeNotFound {
		return Reply{}, Errorf(CodeNotFound, "no such order")
	}
	if err != nil {
		return Reply{}, err
	}
	pass, err := stepUp(ctx, s.Store, s.OTP, s.Now, r.CustomerID, r.DeviceID, amount, r.OTP)
	if err != nil {
		return Reply{}, err
	}
	var topup *Movement // an auto top-up, started at the bank once the transaction commits
	reply, err := Once(ctx, s.Store, r.Key, func(tx Tx) (Reply, error) {
		topup = nil
		now := nowIn(s.Now, tx)
		o, err := tx.OrderByID(ctx, r.OrderID)
		if err != nil {
			return Reply{}, err
		}
		if o.Kind != OrderCode || o.CustomerID != r.CustomerID {
			return Reply{}, Errorf(CodeNotFound, "no such order")
		}
		if o.Status == OrderNotPaid {
			return Reply{}, Errorf(CodeOrderAlreadyPaid, "this order needs no confirmation")
		}
		if err := payable(o, now); err != nil {
			return Reply{}, err
		}
		// The shortfall is topped up first when auto top-up is on, and the order paid
		// when the bank says yes (if it is still open by then).
		o, m, started, err := s.payByCustomer(ctx, tx, PayRequest{CustomerID: r.CustomerID, Method: "balance", PaymentPassword: r.PaymentPassword}, o, pass, now)
		if err != nil {
			return Reply{}, err
		}
		topup = started
		return r.Reply(o, m)
	})
	if err != nil {
		return Reply{}, err
	}
	if topup != nil {
		s.Bank.StartPending(*topup)
	}
	if s.Committed != nil {
		s.Committed()
	}
	return reply, nil
}
