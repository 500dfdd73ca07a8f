package hebao

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CodeWalletNotEmpty: a wallet is closed only with nothing in it (SPEC §9).
const CodeWalletNotEmpty = "wallet_not_empty"

// The audited actions of a wallet's status and tier (SPEC §6, §9).
const (
	ActionWalletFreeze   = "wallet.freeze"
	ActionWalletUnfreeze = "wallet.unfreeze"
	ActionWalletClose    = "wallet.close"
	ActionWalletTier     = "wallet.tier"
)

// WalletEvent is something that changes a wallet's status.
type WalletEvent string

// The wallet events.
const (
	EventFreeze   WalletEvent = "freeze"
	EventUnfreeze WalletEvent = "unfreeze"
	EventClose    WalletEvent = "close"
)

// NextWalletStatus is the wallet state machine (SPEC §6, §9): active → frozen by
// freeze, frozen → active by unfreeze, active or frozen → closed by close. Closed is
// final. Any other pair is conflict; an unknown event or state is invalid_request.
func NextWalletStatus(from WalletStatus, ev WalletEvent) (WalletStatus, error) {
	switch from {
	case WalletActive, WalletFrozen, WalletClosed:
	default:
		return "", Errorf(CodeInvalidRequest, "unknown wallet status %q", from)
	}
	switch ev {
	case EventFreeze:
		if from == WalletActive {
			return WalletFrozen, nil
		}
	case EventUnfreeze:
		if from == WalletFrozen {
			return WalletActive, nil
		}
	case EventClose:
		if from != WalletClosed {
			return WalletClosed, nil
		}
	default:
		return "", Errorf(CodeInvalidRequest, "unknown wallet event %q", ev)
	}
	return "", Errorf(CodeConflict, "a wallet that is %s cannot be %s", from, pastTense(ev))
}

func pastTense(ev WalletEvent) string {
	switch ev {
	case EventFreeze:
		return "frozen"
	case EventUnfreeze:
		return "unfrozen"
	}
	return "closed"
}

// CanPay says whether money may leave w: payments, transfers, withdrawals. A frozen
// or closed wallet is wallet_frozen. Refunds and the answers of the bank to
// operations already under way still reach a frozen or closed wallet; new incoming
// transfers and top-ups need an active one (SPEC §5, §6).
// Errors: wallet_frozen.
func CanPay(w Wallet) error {
	switch w.Status {
	case WalletActive:
		return nil
	case WalletClosed:
		return Errorf(CodeWalletFrozen, "this wallet is closed: no money can leave it")
	default:
		return Errorf(CodeWalletFrozen, "this wallet is frozen: no money can leave it until it is unfrozen")
	}
}

// maxNote is the longest reason or identity-check description kept, in characters.
const maxNote = 500

func validNote(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Errorf(CodeInvalidRequest, "%s is required", field)
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxNote {
		return "", Errorf(CodeInvalidRequest, "%s must be text of at most %d characters", field, maxNote)
	}
	return s, nil
}

// WalletStatusService freezes, unfreezes and closes wallets and sets their tiers,
// for their holders and for staff (SPEC §6, §9, §13).
type WalletStatusService struct {
	Store Store
	// Keys computes the ID-number lookup hash compared when a customer unfreezes.
	Keys *Keyring
	// OTP checks the step_up and unfreeze SMS codes.
	OTP OTPChecker
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
}

// change moves the wallet chosen by load through ev, audited as action by actor,
// with detail; pass, if not nil, is spent in the same transaction. extra runs
// before the write, inside the transaction.
func (s *WalletStatusService) change(ctx context.Context, by Actor, load func(Tx) (Wallet, error), ev WalletEvent,
	action string, detail map[string]string, pass *OTPPass, extra func(Tx, Wallet) error) (Wallet, error) {
	var out Wallet
	err := s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		w, err := load(tx)
		if err != nil {
			return err
		}
		next, err := NextWalletStatus(w.Status, ev)
		if err != nil {
			return err
		}
		if extra != nil {
			if err := extra(tx, w); err != nil {
				return err
			}
		}
		if pass != nil {
			if err := s.OTP.Use(ctx, tx, *pass); err != nil {
				return err
			}
		}
		if err := tx.SetWalletStatus(ctx, w.ID, next); err != nil {
			return err
		}
		d := map[string]string{"wallet_id": w.ID, "status_from": string(w.Status), "status": string(next)}
		for k, v := range detail {
			d[k] = v
		}
		if err := tx.AddAudit(ctx, audit(ctx, now, by, action, w.CustomerID, d)); err != nil {
			return err
		}
		w.Status = next
		out = w
		return nil
	})
	return out, err
}

func byCustomer(ctx context.Context, customerID string) func(Tx) (Wallet, error) {
	return func(tx Tx) (Wallet, error) { return tx.WalletByCustomer(ctx, customerID) }
}

func byWalletID(ctx context.Context, id string) func(Tx) (Wallet, error) {
	return func(tx Tx) (Wallet, error) {
		if !ValidID("wal", id) {
			return Wallet{}, Errorf(CodeInvalidRequest, "a wallet id looks like wal_ and 26 letters and digits")
		}
		return tx.WalletByID(ctx, id)
	}
}

// Freeze freezes the signed-in customer's own wallet (stop-payment, SPEC §6).
// Errors: invalid_request (reason), conflict (not active), not_found.
func (s *WalletStatusService) Freeze(ctx context.Context, customerID, reason string) (Wallet, error) {
	reason, err := validNote("reason", reason)
	if err != nil {
		return Wallet{}, err
	}
	return s.change(ctx, Actor{ActorCustomer, customerID}, byCustomer(ctx, customerID), EventFreeze,
		ActionWalletFreeze, map[string]string{"reason": reason, "via": "session"}, nil, nil)
}

// FreezeByPhone freezes a wallet from any device, without a session, after a
// step_up SMS code sent to the wallet's phone: for a lost or stolen phone (SPEC §6).
// The code is checked first; a phone without a wallet is otp_invalid, as a wrong
// code is, so the answer does not tell which phones have wallets.
// Errors: invalid_request, otp_invalid, otp_expired, conflict (not active).
func (s *WalletStatusService) FreezeByPhone(ctx context.Context, phone, otp, reason string) (Wallet, error) {
	if err := ValidatePhone(phone); err != nil {
		return Wallet{}, err
	}
	if !validOTPCode(otp) {
		return Wallet{}, Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	reason, err := validNote("reason", reason)
	if err != nil {
		return Wallet{}, err
	}
	pass, err := s.OTP.Check(ctx, phone, PurposeStepUp, otp)
	if err != nil {
		return Wallet{}, err
	}
	var customerID string
	load := func(tx Tx) (Wallet, error) {
		c, err := tx.CustomerByPhone(ctx, phone)
		if ErrorCode(err) == CodeNotFound {
			return Wallet{}, Errorf(CodeOTPInvalid, "the code is not valid")
		}
		if err != nil {
			return Wallet{}, err
		}
		customerID = c.ID
		return tx.WalletByCustomer(ctx, c.ID)
	}
	var out Wallet
	err = s.Store.Transact(ctx, func(tx Tx) error {
		// The actor is known only once the customer is read, so the whole change
		// runs here rather than through change.
		now := nowIn(s.Now, tx)
		w, err := load(tx)
		if err != nil {
			return err
		}
		next, err := NextWalletStatus(w.Status, EventFreeze)
		if err != nil {
			return err
		}
		if err := s.OTP.Use(ctx, tx, pass); err != nil {
			return err
		}
		if err := tx.SetWalletStatus(ctx, w.ID, next); err != nil {
			return err
		}
		rec := audit(ctx, now, Actor{ActorCustomer, customerID}, ActionWalletFreeze, customerID,
			map[string]string{"wallet_id": w.ID, "status_from": string(w.Status), "status": string(next), "reason": reason, "via": "sms_code"})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		w.Status = next
		out = w
		return nil
	})
	return out, err
}

// Unfreeze unfreezes the customer's own wallet with an unfreeze SMS code and the ID
// number of the wallet's real name. A wrong ID number spends the code. A wallet
// without a real name cannot be unfrozen by its holder: an agent does it after an
// identity check.
// Errors: invalid_request, id_number_invalid, real_name_required, otp_invalid,
// otp_expired, conflict (not frozen), not_found.
func (s *WalletStatusService) Unfreeze(ctx context.Context, customerID, otp, idNumber string) (Wallet, error) {
	if !validOTPCode(otp) {
		return Wallet{}, Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	n, err := ParseIDNumber(idNumber)
	if err != nil {
		return Wallet{}, err
	}
	if s.Keys == nil {
		return Wallet{}, Errorf(CodeUnavailable, "real-name verification is not configured on this server")
	}
	var (
		phone string
		ident *Identity
	)
	err = s.Store.View(ctx, func(tx Tx) error {
		ident = nil
		c, err := tx.CustomerByID(ctx, customerID)
		if err != nil {
			return err
		}
		phone = c.Phone
		id, err := tx.IdentityByCustomer(ctx, customerID)
		switch {
		case err == nil:
			ident = &id
		case ErrorCode(err) != CodeNotFound:
			return err
		}
		return nil
	})
	if err != nil {
		return Wallet{}, err
	}
	if ident == nil {
		return Wallet{}, Errorf(CodeRealNameRequired, "this wallet has no real name, so it cannot be unfrozen with an ID number: ask customer service, who will check your identity")
	}
	pass, err := s.OTP.Check(ctx, phone, PurposeUnfreeze, otp)
	if err != nil {
		return Wallet{}, err
	}
	if s.Keys.Lookup(LookupIDNumber, n.Number()) != ident.IDLookup {
		if err := s.Store.Transact(ctx, func(tx Tx) error { return s.OTP.Use(ctx, tx, pass) }); err != nil {
			return Wallet{}, err
		}
		return Wallet{}, Errorf(CodeIDNumberInvalid, "the ID number is not the one of this wallet's real name; ask for a new code and try again")
	}
	return s.change(ctx, Actor{ActorCustomer, customerID}, byCustomer(ctx, customerID), EventUnfreeze,
		ActionWalletUnfreeze, map[string]string{"via": "sms_code_and_id_number"}, &pass, nil)
}

// Close closes the customer's own wallet (SPEC §9): only with nothing in it, and
// every session of the customer is ended in the same transaction.
// Errors: wallet_not_empty (money in it, or a top-up or withdrawal pending),
// conflict (closed already), not_found.
func (s *WalletStatusService) Close(ctx context.Context, customerID string) (Wallet, error) {
	empty := func(tx Tx, w Wallet) error {
		accts, err := tx.Accounts(ctx, w.Account, w.PromoAccount)
		if err != nil {
			return err
		}
		if accts[w.Account].Balance != 0 || accts[w.PromoAccount].Balance != 0 {
			return Errorf(CodeWalletNotEmpty, "a wallet is closed only when its balance and its red-packet balance are both zero: withdraw or spend them first")
		}
		if pending, err := hasPending(ctx, tx, w.ID); err != nil || pending {
			if err != nil {
				return err
			}
			return Errorf(CodeWalletNotEmpty, "a top-up or withdrawal of this wallet is still waiting for the bank; close the wallet once it has finished")
		}
		_, err = tx.DeleteSessions(ctx, customerID, time.Time{})
		return err
	}
	return s.change(ctx, Actor{ActorCustomer, customerID}, byCustomer(ctx, customerID), EventClose,
		ActionWalletClose, nil, nil, empty)
}

// hasPending reports whether the wallet has a top-up or withdrawal still pending,
// as its limit counters keep them.
func hasPending(ctx context.Context, tx Tx, walletID string) (bool, error) {
	u, err := tx.Usage(ctx, walletID)
	return u.PendingIn > 0 || u.PendingOut > 0, err
}

// AgentFreeze freezes a wallet for a customer who called customer service; the
// reason is required and audited with the staff member.
// Errors: invalid_request (id, reason), not_found, conflict.
func (s *WalletStatusService) AgentFreeze(ctx context.Context, st Staff, walletID, reason string) (Wallet, error) {
	reason, err := validNote("reason", reason)
	if err != nil {
		return Wallet{}, err
	}
	return s.change(ctx, Actor{ActorStaff, st.ID}, byWalletID(ctx, walletID), EventFreeze,
		ActionWalletFreeze, map[string]string{"reason": reason, "via": "agent"}, nil, nil)
}

// AgentUnfreeze unfreezes a wallet after an identity check, whose description is
// required and audited with the staff member.
// Errors: invalid_request (id, identity_check), not_found, conflict.
func (s *WalletStatusService) AgentUnfreeze(ctx context.Context, st Staff, walletID, identityCheck string) (Wallet, error) {
	check, err := validNote("identity_check", identityCheck)
	if err != nil {
		return Wallet{}, err
	}
	return s.change(ctx, Actor{ActorStaff, st.ID}, byWalletID(ctx, walletID), EventUnfreeze,
		ActionWalletUnfreeze, map[string]string{"identity_check": check, "via": "agent"}, nil, nil)
}

// SetTier sets a wallet's tier (1 to 4), by an admin; audited.
// Errors: invalid_request (id, tier), not_found.
func (s *WalletStatusService) SetTier(ctx context.Context, st Staff, walletID string, tier int) (Wallet, error) {
	if tier < 1 || tier > 4 {
		return Wallet{}, Errorf(CodeInvalidRequest, "tier must be 1 to 4")
	}
	var out Wallet
	err := s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		w, err := byWalletID(ctx, walletID)(tx)
		if err != nil {
			return err
		}
		if err := tx.SetWalletTier(ctx, w.ID, tier); err != nil {
			return err
		}
		rec := audit(ctx, now, Actor{ActorStaff, st.ID}, ActionWalletTier, w.CustomerID,
			map[string]string{"wallet_id": w.ID, "tier_from": strconv.Itoa(w.Tier), "tier": strconv.Itoa(tier)})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		w.Tier = tier
		out = w
		return nil
	})
	return out, err
}

// CustomerView is what an agent sees of a customer: the wallet with its balances,
// the state of its payment password and masked cards, never an ID number, a full
// card number or a full phone number.
type CustomerView struct {
	// Customer is the customer with the phone masked (138****0000, as tickets show
	// it, MaskPhone) and no password hash.
	Customer        Customer
	Wallet          Wallet
	Balance         int64 // fen
	PromoBalance    int64 // red-packet fen
	Points          int64
	PaymentPassword PaymentPasswordStatus
	Cards           []Card
}

// PaymentPasswordStatus is what an agent is told of a wallet's payment password:
// whether one is set and whether payments with it are locked, never the password.
type PaymentPasswordStatus string

// The payment password statuses.
const (
	PaymentPasswordNotSet        PaymentPasswordStatus = "not_set"
	PaymentPasswordSet           PaymentPasswordStatus = "set"
	PaymentPasswordLocked        PaymentPasswordStatus = "locked"         // wrong tries; ends by itself
	PaymentPasswordResetRequired PaymentPasswordStatus = "reset_required" // by an agent; ends with a reset
)

// paymentPasswordStatus says what state p (nil: none set) is in at now.
func paymentPasswordStatus(p *PaymentPassword, now time.Time) PaymentPasswordStatus {
	switch {
	case p == nil:
		return PaymentPasswordNotSet
	case p.State.ResetRequired():
		return PaymentPasswordResetRequired
	case p.State.Locked(now):
		return PaymentPasswordLocked
	}
	return PaymentPasswordSet
}

// The audited looks of agents at a customer (SPEC §9: every action audited).
const (
	ActionWalletView    = "wallet.view"
	ActionWalletHistory = "wallet.history.view"
)

// LookupByPhone finds a customer for an agent by phone; the look is audited
// (ActionWalletView, via "phone") under the staff member, with the customer as the
// subject. The view masks the phone like every other: the agent typed it, and the
// answer need not carry it back.
// Errors: invalid_request (phone), not_found.
func (s *WalletStatusService) LookupByPhone(ctx context.Context, st Staff, phone string) (CustomerView, error) {
	if err := ValidatePhone(phone); err != nil {
		return CustomerView{}, err
	}
	return s.view(ctx, st, "phone", func(tx Tx) (Customer, error) {
		c, err := tx.CustomerByPhone(ctx, phone)
		if ErrorCode(err) == CodeNotFound {
			return Customer{}, Errorf(CodeNotFound, "no customer has this phone")
		}
		return c, err
	})
}

// LookupByID finds a customer for an agent by customer id; the look is audited
// (ActionWalletView).
// Errors: invalid_request (id), not_found.
func (s *WalletStatusService) LookupByID(ctx context.Context, st Staff, id string) (CustomerView, error) {
	if !ValidID("cus", id) {
		return CustomerView{}, Errorf(CodeInvalidRequest, "a customer id looks like cus_ and 26 letters and digits")
	}
	return s.view(ctx, st, "id", func(tx Tx) (Customer, error) { return tx.CustomerByID(ctx, id) })
}

// view reads the customer find returns, with the wallet's balances, from one
// snapshot, and audits the look before anything is shown: a look that is not
// recorded is not answered.
func (s *WalletStatusService) view(ctx context.Context, st Staff, via string, find func(Tx) (Customer, error)) (CustomerView, error) {
	var v CustomerView
	err := s.Store.View(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		c, err := find(tx)
		if err != nil {
			return err
		}
		w, err := tx.WalletByCustomer(ctx, c.ID)
		if err != nil {
			return err
		}
		accts, err := tx.Accounts(ctx, w.Account, w.PromoAccount, w.PointsAccount)
		if err != nil {
			return err
		}
		var pw *PaymentPassword
		switch p, err := tx.PaymentPassword(ctx, w.ID); {
		case err == nil:
			pw = &p
		case ErrorCode(err) != CodeNotFound:
			return err
		}
		cards, err := tx.Cards(ctx, c.ID)
		if err != nil {
			return err
		}
		c = Customer{ID: c.ID, Phone: MaskPhone(c.Phone), CreatedAt: c.CreatedAt}
		v = CustomerView{Customer: c, Wallet: w, Balance: accts[w.Account].Balance, PromoBalance: accts[w.PromoAccount].Balance,
			Points: accts[w.PointsAccount].Balance, PaymentPassword: paymentPasswordStatus(pw, now), Cards: cards}
		return nil
	})
	if err != nil {
		return CustomerView{}, err
	}
	err = s.audited(ctx, st, ActionWalletView, v.Customer.ID, map[string]string{"wallet_id": v.Wallet.ID, "via": via})
	if err != nil {
		return CustomerView{}, err
	}
	return v, nil
}

// audited records a look of staff member st at subject.
func (s *WalletStatusService) audited(ctx context.Context, st Staff, action, subject string, detail map[string]string) error {
	return s.Store.Transact(ctx, func(tx Tx) error {
		return tx.AddAudit(ctx, audit(ctx, nowIn(s.Now, tx), Actor{ActorStaff, st.ID}, action, subject, detail))
	})
}

// History returns up to limit of the wallet's movements with ids below before
// (from the newest when before is ""), newest first: the customer's own history
// (GET /v1/transactions), for an agent. Every look is audited (ActionWalletHistory)
// before it is answered.
// Errors: invalid_request (id, cursor, limit), not_found.
func (s *WalletStatusService) History(ctx context.Context, st Staff, walletID, before string, limit int) ([]Movement, error) {
	if limit < 1 || limit > MaxPageSize+1 {
		return nil, Errorf(CodeInvalidRequest, "limit must be an integer from 1 to %d", MaxPageSize)
	}
	if before != "" && !ValidID("mov", before) {
		return nil, Errorf(CodeInvalidRequest, "cursor is not one this server gave out")
	}
	var (
		w  Wallet
		ms []Movement
	)
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		if w, err = byWalletID(ctx, walletID)(tx); err != nil {
			return err
		}
		ms, err = tx.Movements(ctx, w.ID, before, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	detail := map[string]string{"wallet_id": w.ID}
	if before != "" {
		detail["cursor"] = before
	}
	if err := s.audited(ctx, st, ActionWalletHistory, w.CustomerID, detail); err != nil {
		return nil, err
	}
	return ms, nil
}
