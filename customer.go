package hebao

import (
	"context"
	"sync"
	"time"
)

// Customer is a wallet holder (SPEC §1). The password is kept only as an argon2id
// hash.
type Customer struct {
	ID           string
	Phone        string
	PasswordHash string
	CreatedAt    time.Time
}

// Device is an app install a customer has signed in from. Signing in from a device
// that is not known needs an SMS code (SPEC §6).
type Device struct {
	CustomerID  string
	ID          string
	FirstSeenAt time.Time
}

// OTPChecker checks and spends SMS codes; *OTPService is the one, and tests of
// other use cases may pass a fake.
type OTPChecker interface {
	Check(ctx context.Context, phone string, purpose OTPPurpose, code string) (OTPPass, error)
	Use(ctx context.Context, tx Tx, p OTPPass) error
}

var _ OTPChecker = (*OTPService)(nil)

// CustomerService opens wallets and signs customers in and out (SPEC §3, §6).
type CustomerService struct {
	Store Store
	// OTP checks the SMS codes that registration and new devices need.
	OTP OTPChecker
	// Argon2 are the parameters of new password hashes; zero is DefaultArgon2.
	Argon2 Argon2Params
	// Now is the clock; nil uses each transaction's time (Tx.Now).
	Now func() time.Time
	// Gifts, if set, gives each new wallet the opening gifts of the active campaigns
	// (SPEC §7), once per person: its lookup key turns a phone into the person key.
	Gifts *Keyring

	dummy lazyHash
}

// lazyHash is a hash of nothing anyone knows, made once: checking a password against
// it for a phone with no customer takes as long as checking a real one, so the answer
// time does not tell which phones have wallets.
type lazyHash struct {
	once sync.Once
	hash string
	err  error
}

func (d *lazyHash) get(p Argon2Params) (string, error) {
	d.once.Do(func() { d.hash, d.err = HashPassword(p, "no one's password") })
	return d.hash, d.err
}

// nowIn is the time of a use case: the fake clock if one is set, else tx's.
func nowIn(clock func() time.Time, tx Tx) time.Time {
	if clock != nil {
		return clock().UTC().Truncate(time.Microsecond)
	}
	return tx.Now()
}

// Registration is what opening a wallet takes (POST /v1/customers).
type Registration struct {
	Phone    string
	OTP      string // the code sent for purpose register
	Password string
	DeviceID string
}

// Registered is what Register returns: the new customer and wallet, and a session
// on the device registered from. Token is shown this once.
type Registered struct {
	Customer Customer
	Wallet   Wallet
	Session  Session
	Token    string
}

// Register opens a wallet: it checks the SMS code sent to the phone for
// registration, then in one transaction spends the code and stores the customer,
// the wallet at tier 4 with its ledger accounts (balance, red packets, points), the
// device as known, an audit record and a session. Concurrent registrations of one
// phone: exactly one succeeds.
// Errors: invalid_request (phone, password rules, device id, code format),
// otp_invalid, otp_expired, conflict (the phone has a wallet already).
func (s *CustomerService) Register(ctx context.Context, r Registration) (Registered, error) {
	if err := ValidatePhone(r.Phone); err != nil {
		return Registered{}, err
	}
	if err := ValidatePassword(r.Password); err != nil {
		return Registered{}, err
	}
	if err := ValidateDeviceID(r.DeviceID); err != nil {
		return Registered{}, err
	}
	if !validOTPCode(r.OTP) {
		return Registered{}, Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	// The code first: a wrong one costs no password hashing.
	pass, err := s.OTP.Check(ctx, r.Phone, PurposeRegister, r.OTP)
	if err != nil {
		return Registered{}, err
	}
	hash, err := HashPassword(s.Argon2, r.Password)
	if err != nil {
		return Registered{}, err
	}
	token, th, err := newToken(CustomerTokenPrefix)
	if err != nil {
		return Registered{}, err
	}
	var out Registered
	err = s.Store.Transact(ctx, func(tx Tx) error {
		out = Registered{}
		now := nowIn(s.Now, tx)
		if err := s.OTP.Use(ctx, tx, pass); err != nil {
			return err
		}
		switch _, err := tx.CustomerByPhone(ctx, r.Phone); {
		case err == nil:
			return phoneTaken(nil)
		case ErrorCode(err) != CodeNotFound:
			return err
		}
		c := Customer{ID: NewID("cus"), Phone: r.Phone, PasswordHash: hash, CreatedAt: now}
		if err := tx.CreateCustomer(ctx, c); err != nil {
			if ErrorCode(err) == CodeConflict {
				return phoneTaken(err) // a concurrent registration got there first
			}
			return err
		}
		w, err := openWallet(ctx, tx, c.ID, now)
		if err != nil {
			return err
		}
		if s.Gifts != nil {
			if err := grantOpeningGifts(ctx, tx, s.Gifts, w, c.Phone, now); err != nil {
				return err
			}
		}
		if err := tx.AddDevice(ctx, Device{CustomerID: c.ID, ID: r.DeviceID, FirstSeenAt: now}); err != nil {
			return err
		}
		sess := Session{ID: NewID("ses"), TokenHash: th, CustomerID: c.ID, DeviceID: r.DeviceID, CreatedAt: now, LastUsedAt: now}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		rec := audit(ctx, now, Actor{ActorCustomer, c.ID}, ActionRegister, c.ID,
			map[string]string{"wallet_id": w.ID, "phone": c.Phone, "device_id": r.DeviceID, "tier": "4"})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		out = Registered{Customer: c, Wallet: w, Session: sess, Token: token}
		return nil
	})
	if err != nil {
		return Registered{}, err
	}
	return out, nil
}

func phoneTaken(cause error) error {
	e := Errorf(CodeConflict, "this phone number already has a Hebao wallet; sign in instead")
	e.Err = cause
	return e
}

// openWallet creates a customer's wallet at the opening tier, with its three ledger
// accounts, each owned by the wallet.
func openWallet(ctx context.Context, tx Tx, customerID string, now time.Time) (Wallet, error) {
	w := Wallet{ID: NewID("wal"), CustomerID: customerID, Status: WalletActive, Tier: OpeningTier, CreatedAt: now}
	for _, a := range []struct {
		kind AccountKind
		unit Unit
		id   *AccountID
	}{
		{AccountWallet, CNY, &w.Account},
		{AccountPromo, CNY, &w.PromoAccount},
		{AccountPoints, POINT, &w.PointsAccount},
	} {
		acct, err := NewAccount(a.kind, w.ID, a.unit, false)
		if err != nil {
			return Wallet{}, err
		}
		if acct, err = tx.CreateAccount(ctx, acct); err != nil {
			return Wallet{}, err
		}
		*a.id = acct.ID
	}
	if err := tx.CreateWallet(ctx, w); err != nil {
		return Wallet{}, err
	}
	return w, nil
}
