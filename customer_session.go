package hebao

import (
	"context"
	"strconv"
	"time"
)

// maxPasswordBytes bounds a password offered at sign-in: longer cannot be right,
// and is refused before any hashing.
const maxPasswordBytes = 1024

// Credentials are what signing in takes (POST /v1/sessions).
type Credentials struct {
	Phone    string
	Password string
	DeviceID string
	OTP      string // the code sent for purpose login; needed on a device not seen before
}

// SignedIn is a new session and its token, shown this once.
type SignedIn struct {
	Session Session
	Token   string
}

var errBadCredentials = Errorf(CodeUnauthenticated, "the phone number or the password is wrong")

// Login signs a customer in on a device.
//
// Guessing is throttled per phone: every attempt is first counted as a failure, in
// a transaction of its own committed before the password is checked, so a burst of
// concurrent guesses cannot all slip in before their failures land (the design of
// OTPService.Check); a correct password then forgets the phone's failures. After
// LoginMaxFailures failures within LoginFailureWindow, attempts are refused without
// a check until LoginFailureWindow after the last of them. The password is checked
// outside any transaction. A phone with no customer is answered like a wrong
// password and takes as long (the check runs against a dummy hash). A device the
// customer has not signed in from needs an SMS code for purpose login, which then
// makes it known. Failures and refusals are audited, in transactions committed
// before the error returns.
//
// Errors: invalid_request (phone, device id, empty password, code format),
// unauthenticated (unknown phone or wrong password, the same answer),
// rate_limited, step_up_required (a new device and no code), otp_invalid,
// otp_expired.
func (s *CustomerService) Login(ctx context.Context, c Credentials) (SignedIn, error) {
	if err := ValidatePhone(c.Phone); err != nil {
		return SignedIn{}, err
	}
	if err := ValidateDeviceID(c.DeviceID); err != nil {
		return SignedIn{}, err
	}
	if c.Password == "" || len(c.Password) > maxPasswordBytes {
		return SignedIn{}, Errorf(CodeInvalidRequest, "password is required (at most %d bytes)", maxPasswordBytes)
	}
	if c.OTP != "" && !validOTPCode(c.OTP) {
		return SignedIn{}, Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	who := map[string]string{"phone": c.Phone, "device_id": c.DeviceID}

	// 1. Count the attempt, or refuse it.
	var (
		cust    Customer
		found   bool
		known   bool
		verdict error
	)
	err := s.Store.Transact(ctx, func(tx Tx) error {
		cust, found, known, verdict = Customer{}, false, false, nil
		now := nowIn(s.Now, tx)
		fails, err := tx.LoginFailures(ctx, c.Phone, now.Add(-2*LoginFailureWindow))
		if err != nil {
			return err
		}
		if verdict = CheckLoginThrottle(fails, now); verdict != nil {
			return tx.AddAudit(ctx, audit(ctx, now, Actor{Kind: ActorAnonymous}, ActionLoginRateLimited, "", who))
		}
		if err := tx.AddLoginFailure(ctx, c.Phone, now); err != nil {
			return err
		}
		// What the throttle can no longer see need not be kept.
		if err := tx.DeleteLoginFailures(ctx, c.Phone, now.Add(-2*LoginFailureWindow)); err != nil {
			return err
		}
		switch cust, err = tx.CustomerByPhone(ctx, c.Phone); {
		case err == nil:
			found = true
			known, err = tx.KnownDevice(ctx, cust.ID, c.DeviceID)
			return err
		case ErrorCode(err) == CodeNotFound:
			return nil
		default:
			return err
		}
	})
	if err != nil {
		return SignedIn{}, err
	}
	if verdict != nil {
		return SignedIn{}, verdict
	}

	// 2. Check the password, outside any transaction. The dummy hash is made on the
	// first sign-in of any kind, so that not even the first unknown phone is slower.
	hash, err := s.dummy.get(s.Argon2)
	if err != nil {
		return SignedIn{}, err
	}
	if found {
		hash = cust.PasswordHash
	}
	ok, err := CheckPassword(hash, c.Password)
	if err != nil {
		return SignedIn{}, err
	}
	if !ok || !found {
		err := s.Store.Transact(ctx, func(tx Tx) error {
			return tx.AddAudit(ctx, audit(ctx, nowIn(s.Now, tx), Actor{Kind: ActorAnonymous}, ActionLoginFailed, cust.ID, who))
		})
		if err != nil {
			return SignedIn{}, err
		}
		return SignedIn{}, errBadCredentials
	}

	// 3. A new device needs a code.
	var pass OTPPass
	if !known {
		if c.OTP == "" {
			return SignedIn{}, errStepUp
		}
		if pass, err = s.OTP.Check(ctx, c.Phone, PurposeLogin, c.OTP); err != nil {
			return SignedIn{}, err
		}
	}

	// 4. Open the session.
	token, th, err := newToken(CustomerTokenPrefix)
	if err != nil {
		return SignedIn{}, err
	}
	var out SignedIn
	err = s.Store.Transact(ctx, func(tx Tx) error {
		out = SignedIn{}
		now := nowIn(s.Now, tx)
		cur, err := tx.CustomerByPhone(ctx, c.Phone)
		if ErrorCode(err) == CodeNotFound || err == nil && (cur.ID != cust.ID || cur.PasswordHash != cust.PasswordHash) {
			return errBadCredentials // changed since the check
		}
		if err != nil {
			return err
		}
		known, err := tx.KnownDevice(ctx, cur.ID, c.DeviceID)
		if err != nil {
			return err
		}
		if !known {
			if pass.id == "" {
				return errStepUp
			}
			if err := s.OTP.Use(ctx, tx, pass); err != nil {
				return err
			}
			if err := tx.AddDevice(ctx, Device{CustomerID: cur.ID, ID: c.DeviceID, FirstSeenAt: now}); err != nil {
				return err
			}
		}
		if err := tx.DeleteLoginFailures(ctx, c.Phone, time.Time{}); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(ctx, cur.ID, idleCutoff(now, SessionIdle)); err != nil {
			return err
		}
		sess := Session{ID: NewID("ses"), TokenHash: th, CustomerID: cur.ID, DeviceID: c.DeviceID, CreatedAt: now, LastUsedAt: now}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		detail := map[string]string{"device_id": c.DeviceID, "new_device": strconv.FormatBool(!known)}
		if err := tx.AddAudit(ctx, audit(ctx, now, Actor{ActorCustomer, cur.ID}, ActionLogin, cur.ID, detail)); err != nil {
			return err
		}
		out = SignedIn{Session: sess, Token: token}
		return nil
	})
	if err != nil {
		return SignedIn{}, err
	}
	return out, nil
}

var errStepUp = Errorf(CodeStepUpRequired,
	"this device has not signed in to this wallet before: request a login code (POST /v1/otp with purpose login) and sign in again with it as otp")

// Authenticate resolves a customer's bearer token to its session. A session ends
// after SessionIdle unused; each use moves its last use forward, written at most
// once a minute so that reads stay cheap.
// Errors: unauthenticated (malformed, unknown, signed out or expired).
func (s *CustomerService) Authenticate(ctx context.Context, token string) (Session, error) {
	if !wellFormedToken(CustomerTokenPrefix, token) {
		return Session{}, errBadToken
	}
	var (
		sess Session
		now  time.Time
	)
	var err error
	if f, ok := s.Store.(SessionFinder); ok {
		sess, now, err = f.FindSession(ctx, TokenHash(token))
		if s.Now != nil {
			now = s.Now().UTC().Truncate(time.Microsecond)
		}
	} else {
		err = s.Store.View(ctx, func(tx Tx) (err error) {
			now = nowIn(s.Now, tx)
			sess, err = tx.SessionByToken(ctx, TokenHash(token))
			return err
		})
	}
	if ErrorCode(err) == CodeNotFound {
		return Session{}, errBadToken
	}
	if err != nil {
		return Session{}, err
	}
	if Idle(sess.LastUsedAt, SessionIdle, now) {
		return Session{}, errExpired
	}
	if needsTouch(sess.LastUsedAt, now) {
		err := s.Store.Transact(ctx, func(tx Tx) error {
			now = nowIn(s.Now, tx)
			return tx.TouchSession(ctx, sess.ID, now)
		})
		if err != nil {
			return Session{}, err
		}
		sess.LastUsedAt = now
	}
	return sess, nil
}

var (
	errBadToken = Errorf(CodeUnauthenticated, "the bearer token is not valid (signed out, or never issued); sign in again")
	errExpired  = Errorf(CodeUnauthenticated, "the session has expired after being unused; sign in again")
)

// Logout ends one session (DELETE /v1/sessions/current).
// Errors: none of its own; the store's.
func (s *CustomerService) Logout(ctx context.Context, sess Session) error {
	return s.Store.Transact(ctx, func(tx Tx) error {
		if _, err := tx.DeleteSession(ctx, sess.ID); err != nil {
			return err
		}
		rec := audit(ctx, nowIn(s.Now, tx), Actor{ActorCustomer, sess.CustomerID}, ActionLogout, sess.CustomerID,
			map[string]string{"device_id": sess.DeviceID})
		return tx.AddAudit(ctx, rec)
	})
}

// LogoutAll ends every session of the customer, on every device (DELETE
// /v1/sessions). Errors: none of its own; the store's.
func (s *CustomerService) LogoutAll(ctx context.Context, sess Session) error {
	return s.Store.Transact(ctx, func(tx Tx) error {
		n, err := tx.DeleteSessions(ctx, sess.CustomerID, time.Time{})
		if err != nil {
			return err
		}
		rec := audit(ctx, nowIn(s.Now, tx), Actor{ActorCustomer, sess.CustomerID}, ActionLogoutAll, sess.CustomerID,
			map[string]string{"device_id": sess.DeviceID, "sessions": strconv.Itoa(n)})
		return tx.AddAudit(ctx, rec)
	})
}
