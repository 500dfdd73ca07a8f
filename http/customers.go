package http

import (
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
)

// register opens a wallet: POST /v1/customers {phone, otp, password, device_id} →
// 201 {customer_id, wallet_id, token}. The token is shown this once and never cached.
func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Phone    string `json:"phone"`
		OTP      string `json:"otp"`
		Password string `json:"password"`
		DeviceID string `json:"device_id"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.customers == nil {
		return notConfigured("customer accounts")
	}
	out, err := s.customers.Register(r.Context(), hebao.Registration{Phone: req.Phone, OTP: req.OTP, Password: req.Password, DeviceID: req.DeviceID})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, struct {
		CustomerID string `json:"customer_id"`
		WalletID   string `json:"wallet_id"`
		Token      string `json:"token"`
	}{out.Customer.ID, out.Wallet.ID, out.Token})
}

// login signs a customer in: POST /v1/sessions {phone, password, device_id, otp?} →
// 201 {token, expires_at}.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Phone    string `json:"phone"`
		Password string `json:"password"`
		DeviceID string `json:"device_id"`
		OTP      string `json:"otp"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.customers == nil {
		return notConfigured("customer accounts")
	}
	out, err := s.customers.Login(r.Context(), hebao.Credentials{Phone: req.Phone, Password: req.Password, DeviceID: req.DeviceID, OTP: req.OTP})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}{out.Token, out.Session.ExpiresAt().UTC()})
}

// logout ends the session of the request's token: DELETE /v1/sessions/current → 204.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if err := s.customers.Logout(r.Context(), sess); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// logoutAll ends every session of the customer: DELETE /v1/sessions → 204.
func (s *Server) logoutAll(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if err := s.customers.LogoutAll(r.Context(), sess); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// limit is a limit in fen, or null for unlimited.
func limit(v int64) *int64 {
	if v == hebao.Unlimited {
		return nil
	}
	return &v
}

// walletJSON is GET /v1/wallet's answer. Amounts are fen; a null limit is unlimited.
type walletJSON struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	Tier         int    `json:"tier"`
	Balance      int64  `json:"balance"`
	PromoBalance int64  `json:"promo_balance"`
	// PaymentPasswordSet says whether a payment password has been set.
	PaymentPasswordSet bool `json:"payment_password_set"`
	// PaymentPassword is not_set, set, locked (wrong tries) or reset_required
	// (customer service locked it until a reset with an SMS code and the ID number).
	PaymentPassword string `json:"payment_password"`
	Limits          struct {
		BalanceCap     *int64 `json:"balance_cap"`
		SinglePayment  *int64 `json:"single_payment"`
		DailyPayments  *int64 `json:"daily_payments"`
		YearlyPayments *int64 `json:"yearly_payments"`
	} `json:"limits"`
	Used struct {
		Today    int64 `json:"today"`
		ThisYear int64 `json:"this_year"`
	} `json:"used"`
}

// getWallet shows the caller's own wallet: GET /v1/wallet. There is no id to pass,
// so no other wallet can be asked for.
func (s *Server) getWallet(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.wallets == nil {
		return notConfigured("wallets")
	}
	v, err := s.wallets.Get(r.Context(), sess.CustomerID)
	if err != nil {
		return err
	}
	out := walletJSON{ID: v.Wallet.ID, Status: string(v.Wallet.Status), Tier: v.Wallet.Tier, Balance: v.Balance, PromoBalance: v.PromoBalance,
		PaymentPasswordSet: v.PaymentPasswordSet, PaymentPassword: string(v.PaymentPassword)}
	out.Limits.BalanceCap = limit(v.Limits.BalanceCap)
	out.Limits.SinglePayment = limit(v.Limits.SinglePayment)
	out.Limits.DailyPayments = limit(v.Limits.DailyPayments)
	out.Limits.YearlyPayments = limit(v.Limits.YearlyPayments)
	out.Used.Today, out.Used.ThisYear = v.UsedToday, v.UsedThisYear
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}
