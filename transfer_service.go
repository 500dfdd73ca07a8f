package hebao

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Step-up (SPEC §6): a payment above StepUpAmount from a device first seen within
// StepUpDeviceAge needs an SMS code too.
const (
	StepUpAmount    int64 = 5_000 * 100
	StepUpDeviceAge       = 24 * time.Hour
)

// MaxMemo is the longest memo a transfer carries, in characters.
const MaxMemo = 50

// TransferService moves money from one wallet to another (SPEC §5 转账).
type TransferService struct {
	Store     Store
	Tiers     TierLimits // zero: DefaultTierLimits
	Passwords *PaymentPasswordService
	// OTP checks the step_up codes of large transfers from new devices.
	OTP OTPChecker
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
	// Committed, if set, is called after each transfer commits (to wake the
	// notification dispatcher).
	Committed func()
}

// TransferRequest is one customer's request to send money (POST /v1/transfers).
type TransferRequest struct {
	CustomerID      string
	DeviceID        string // of the session: decides whether step-up applies
	ToPhone         string // exactly one of ToPhone and ToWalletID
	ToWalletID      string
	Amount          int64
	Memo            string
	PaymentPassword string
	OTP             string // the step_up code, when one is needed
	Key             IdempotencyKey
	// Reply renders what is answered, and answered again to every retry with Key,
	// from the payer's movement.
	Reply func(Movement) (Reply, error)
}

// Validate checks the request's own fields.
// Errors: invalid_request.
func (r TransferRequest) Validate() error {
	if err := CheckAmount(r.Amount); err != nil {
		return err
	}
	switch {
	case (r.ToPhone == "") == (r.ToWalletID == ""):
		return Errorf(CodeInvalidRequest, "give exactly one of to_phone and to_wallet_id")
	case r.ToPhone != "":
		if err := ValidatePhone(r.ToPhone); err != nil {
			return Errorf(CodeInvalidRequest, "to_phone must be a mainland China mobile number: 11 digits starting with 13 to 19")
		}
	case !ValidID("wal", r.ToWalletID):
		return Errorf(CodeInvalidRequest, "to_wallet_id is not a wallet id")
	}
	if utf8.RuneCountInString(r.Memo) > MaxMemo || !utf8.ValidString(r.Memo) || strings.IndexFunc(r.Memo, unicode.IsControl) >= 0 {
		return Errorf(CodeInvalidRequest, "memo must be at most %d characters of text", MaxMemo)
	}
	if r.OTP != "" && !validOTPCode(r.OTP) {
		return Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	return nil
}

// Send moves r.Amount from the customer's wallet to the payee's, once per
// idempotency key: the payment password, the payer's limits, the payee's balance
// cap and the balance are all checked in the transaction that moves the money,
// records both sides' movements and announces them.
// Errors: invalid_request, not_found (no such payee), wallet_frozen,
// payee_unavailable, payment_password_wrong, payment_password_locked,
// step_up_required, otp_invalid, otp_expired, limit_exceeded,
// balance_cap_exceeded, insufficient_funds, idempotency_key_reused,
// idempotency_key_in_use.
func (s *TransferService) Send(ctx context.Context, r TransferRequest) (Reply, error) {
	if err := r.Validate(); err != nil {
		return Reply{}, err
	}
	if r.OTP != "" {
		// A retry gets its first answer, though the code it carried is spent.
		if rep, err := Replayed(ctx, s.Store, r.Key); err != nil || rep != nil {
			if rep != nil {
				return *rep, nil
			}
			return Reply{}, err
		}
	}
	pass, err := stepUp(ctx, s.Store, s.OTP, s.Now, r.CustomerID, r.DeviceID, r.Amount, r.OTP)
	if err != nil {
		return Reply{}, err
	}
	tiers := s.Tiers.orDefault()
	ctx = WithReadAhead(ctx, ReadAhead{Payer: r.CustomerID, PayeeWallet: r.ToWalletID, PayeePhone: r.ToPhone})
	reply, err := Once(ctx, s.Store, r.Key, func(tx Tx) (Reply, error) {
		now := nowIn(s.Now, tx)
		who, err := tx.Payer(ctx, r.CustomerID)
		if err != nil {
			return Reply{}, err
		}
		payer := who.Wallet
		if err := CanPay(payer); err != nil {
			return Reply{}, err
		}
		if err := s.Passwords.checkIn(ctx, tx, payer.ID, r.PaymentPassword, who.Password, now); err != nil {
			return Reply{}, err
		}
		payee, payeePhone, err := tx.Payee(ctx, r.ToWalletID, r.ToPhone)
		if ErrorCode(err) == CodeNotFound && r.ToPhone != "" {
			return Reply{}, Errorf(CodeNotFound, "no wallet has this phone number")
		}
		if ErrorCode(err) == CodeNotFound {
			return Reply{}, Errorf(CodeNotFound, "no such wallet")
		}
		if err != nil {
			return Reply{}, err
		}
		if payee.ID == payer.ID {
			return Reply{}, Errorf(CodeInvalidRequest, "this is your own wallet: a transfer goes to someone else's")
		}
		if payee.Status != WalletActive {
			return Reply{}, Errorf(CodePayeeUnavailable, "the payee's wallet cannot receive transfers now")
		}
		payerLimits, err := tiers.For(payer.Tier)
		if err != nil {
			return Reply{}, err
		}
		payeeLimits, err := tiers.For(payee.Tier)
		if err != nil {
			return Reply{}, err
		}
		if err := chargeOutgoing(ctx, tx, payer, payerLimits, r.Amount, now); err != nil {
			return Reply{}, err
		}
		if err := checkCap(ctx, tx, payee, payeeLimits, r.Amount, false); err != nil {
			if ErrorCode(err) == CodeBalanceCapExceeded {
				// Say it about the payee, without telling the payer their balance.
				err = Errorf(CodeBalanceCapExceeded, "the payee's wallet cannot hold this much more; send less, or ask them to raise their wallet's tier")
			}
			return Reply{}, err
		}
		if pass != nil {
			if err := s.OTP.Use(ctx, tx, *pass); err != nil {
				return Reply{}, err
			}
		}
		ref := NewID("trf")
		t := &Transfer{ID: ref, Kind: TransferP2P, Ref: ref, Postings: Move(payer.Account, payee.Account, CNY, r.Amount)}
		if err := tx.Post(ctx, t); err != nil {
			return Reply{}, err
		}
		out := Movement{ID: NewID("mov"), WalletID: payer.ID, Account: payer.Account, CustomerID: payer.CustomerID, Kind: MovementTransferOut,
			Status: MovementSucceeded, Amount: r.Amount, Counterparty: payee.ID, CounterpartyName: MaskPhone(payeePhone),
			Memo: r.Memo, Ref: ref, CreatedAt: now, UpdatedAt: now}
		in := out
		in.ID, in.WalletID, in.Account, in.CustomerID, in.Kind = NewID("mov"), payee.ID, payee.Account, payee.CustomerID, MovementTransferIn
		in.Counterparty, in.CounterpartyName = payer.ID, MaskPhone(who.Phone)
		for _, m := range []Movement{out, in} {
			if err := tx.CreateMovement(ctx, m); err != nil {
				return Reply{}, err
			}
		}
		if err := emitTransfer(ctx, tx, out, t.Balances[payer.Account], in, t.Balances[payee.Account]); err != nil {
			return Reply{}, err
		}
		return r.Reply(out)
	})
	if err != nil {
		return Reply{}, err
	}
	if s.Committed != nil {
		s.Committed()
	}
	return reply, nil
}

// stepUpNeeded reports, inside a transaction, whether a payment of amount by the
// customer from deviceID needs a step_up code (SPEC §6): the same rule as stepUp,
// for payments whose amount is only known once the transaction has read it, and
// that came without a code (so that the common payment makes no read beforehand).
// Errors: step_up_required when one is needed.
func stepUpNeeded(ctx context.Context, tx Tx, clock func() time.Time, customerID, deviceID string, amount int64) error {
	if amount <= StepUpAmount {
		return nil
	}
	d, err := tx.Device(ctx, customerID, deviceID)
	switch {
	case ErrorCode(err) == CodeNotFound:
	case err != nil:
		return err
	case nowIn(clock, tx).Sub(d.FirstSeenAt) >= StepUpDeviceAge:
		return nil
	}
	return Errorf(CodeStepUpRequired, "a payment above %s from a device first used within 24 hours needs an SMS code: ask for a step_up code and send it as otp", yuan(StepUpAmount))
}

// stepUp checks the step_up SMS code when a payment needs one (SPEC §6): above
// StepUpAmount from a device first seen within StepUpDeviceAge (or never seen). It
// returns nil when none is needed; the code is spent in the payment's transaction.
// Errors: step_up_required (none given), otp_invalid, otp_expired.
func stepUp(ctx context.Context, st Store, otp OTPChecker, clock func() time.Time, customerID, deviceID string, amount int64, code string) (*OTPPass, error) {
	if amount <= StepUpAmount {
		return nil, nil
	}
	var (
		phone string
		fresh bool
	)
	err := st.View(ctx, func(tx Tx) error {
		c, err := tx.CustomerByID(ctx, customerID)
		if err != nil {
			return err
		}
		phone = c.Phone
		d, err := tx.Device(ctx, customerID, deviceID)
		switch {
		case ErrorCode(err) == CodeNotFound:
			fresh = true
		case err != nil:
			return err
		default:
			fresh = nowIn(clock, tx).Sub(d.FirstSeenAt) < StepUpDeviceAge
		}
		return nil
	})
	if err != nil || !fresh {
		return nil, err
	}
	if code == "" {
		return nil, Errorf(CodeStepUpRequired, "a payment above %s from a device first used within 24 hours needs an SMS code: ask for a step_up code and send it as otp", yuan(StepUpAmount))
	}
	if otp == nil {
		return nil, Errorf(CodeUnavailable, "SMS codes cannot be checked on this server")
	}
	p, err := otp.Check(ctx, phone, PurposeStepUp, code)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// MaskPhone shows a phone number as 138****0000.
func MaskPhone(phone string) string {
	if len(phone) != 11 {
		return "***"
	}
	return phone[:3] + "****" + phone[7:]
}
