package http

import (
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
)

// walletStatusJSON is the answer of every route that changes a wallet's status or
// tier.
type walletStatusJSON struct {
	WalletID string `json:"wallet_id"`
	Status   string `json:"status"`
	Tier     int    `json:"tier"`
}

func (s *Server) writeWalletStatus(w http.ResponseWriter, wal hebao.Wallet) error {
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, walletStatusJSON{wal.ID, string(wal.Status), wal.Tier})
}

// freezeWallet freezes a wallet (stop-payment, SPEC §6): POST /v1/wallet/freeze.
// With a customer's bearer token the body is {reason} and the caller's own wallet is
// frozen; without an Authorization header it is {phone, otp, reason}, otp a code sent
// for purpose step_up to that phone, for a phone that is lost. → 200 {wallet_id,
// status, tier}.
// Errors: invalid_request, unauthenticated, forbidden, otp_invalid, otp_expired,
// conflict (not active), unavailable.
func (s *Server) freezeWallet(w http.ResponseWriter, r *http.Request) error {
	if s.customers == nil || s.walletStatus == nil {
		return notConfigured("wallet freezing")
	}
	var req struct {
		Reason string `json:"reason"`
		Phone  string `json:"phone"`
		OTP    string `json:"otp"`
	}
	if r.Header.Get("Authorization") != "" {
		p, err := s.principal(w, r)
		if err != nil {
			return err
		}
		sess, err := p.AsCustomer()
		if err != nil {
			return err
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		if req.Phone != "" || req.OTP != "" {
			return invalid("phone and otp are for freezing without a session; with a bearer token send only reason")
		}
		wal, err := s.walletStatus.Freeze(r.Context(), sess.CustomerID, req.Reason)
		if err != nil {
			return err
		}
		return s.writeWalletStatus(w, wal)
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Phone == "" && req.OTP == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hebao"`)
		return hebao.Errorf(hebao.CodeUnauthenticated, "freeze with a bearer token, or with phone and an otp sent for purpose step_up")
	}
	wal, err := s.walletStatus.FreezeByPhone(r.Context(), req.Phone, req.OTP, req.Reason)
	if err != nil {
		return err
	}
	return s.writeWalletStatus(w, wal)
}

// unfreezeWallet unfreezes the caller's wallet: POST /v1/wallet/unfreeze {otp,
// id_number} → 200 {wallet_id, status, tier}; otp is a code sent for purpose
// unfreeze.
// Errors: invalid_request, id_number_invalid, real_name_required, otp_invalid,
// otp_expired, conflict, unavailable.
func (s *Server) unfreezeWallet(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		OTP      string `json:"otp"`
		IDNumber string `json:"id_number"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.walletStatus == nil {
		return notConfigured("wallet freezing")
	}
	wal, err := s.walletStatus.Unfreeze(r.Context(), sess.CustomerID, req.OTP, req.IDNumber)
	if err != nil {
		return err
	}
	return s.writeWalletStatus(w, wal)
}

// closeWallet closes the caller's empty wallet and ends all its sessions:
// POST /v1/wallet/close → 200 {wallet_id, status, tier}.
// Errors: wallet_not_empty, conflict, unavailable.
func (s *Server) closeWallet(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.walletStatus == nil {
		return notConfigured("wallet closing")
	}
	wal, err := s.walletStatus.Close(r.Context(), sess.CustomerID)
	if err != nil {
		return err
	}
	return s.writeWalletStatus(w, wal)
}

// agentCustomerJSON is a customer as an agent sees it: the phone masked, the
// wallet's balances (fen; points are points) and the state of its payment password.
type agentCustomerJSON struct {
	ID        string    `json:"id"`
	Phone     string    `json:"phone"`
	CreatedAt time.Time `json:"created_at"`
	Wallet    struct {
		ID              string `json:"id"`
		Status          string `json:"status"`
		Tier            int    `json:"tier"`
		Balance         int64  `json:"balance"`
		PromoBalance    int64  `json:"promo_balance"`
		Points          int64  `json:"points"`
		PaymentPassword string `json:"payment_password"`
	} `json:"wallet"`
	Cards []cardJSON `json:"cards"`
}

func (s *Server) writeAgentCustomer(w http.ResponseWriter, v hebao.CustomerView) error {
	out := agentCustomerJSON{ID: v.Customer.ID, Phone: v.Customer.Phone, CreatedAt: v.Customer.CreatedAt.UTC(), Cards: cardsOut(v.Cards).Cards}
	out.Wallet.ID, out.Wallet.Status, out.Wallet.Tier = v.Wallet.ID, string(v.Wallet.Status), v.Wallet.Tier
	out.Wallet.Balance, out.Wallet.PromoBalance, out.Wallet.Points = v.Balance, v.PromoBalance, v.Points
	out.Wallet.PaymentPassword = string(v.PaymentPassword)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// agentFindCustomer looks a customer up by phone: GET /v1/agent/customers?phone=
// (agent) → 200 customer with the phone masked, the wallet with its balances and
// masked cards; the look is audited.
// Errors: invalid_request, not_found.
func (s *Server) agentFindCustomer(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	if s.walletStatus == nil {
		return notConfigured("customer look-ups")
	}
	v, err := s.walletStatus.LookupByPhone(r.Context(), st, r.URL.Query().Get("phone"))
	if err != nil {
		return err
	}
	return s.writeAgentCustomer(w, v)
}

// agentGetCustomer shows a customer: GET /v1/agent/customers/{id} (agent).
// Errors: invalid_request, not_found.
func (s *Server) agentGetCustomer(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	if s.walletStatus == nil {
		return notConfigured("customer look-ups")
	}
	v, err := s.walletStatus.LookupByID(r.Context(), st, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeAgentCustomer(w, v)
}

// agentWalletHistory pages through a customer's history for an agent, newest
// first, as the customer's own GET /v1/transactions shows it:
// GET /v1/agent/wallets/{id}/transactions?limit=&cursor= (agent) → {items,
// next_cursor}. Every page read is audited.
// Errors: invalid_request (id, limit, cursor), not_found.
func (s *Server) agentWalletHistory(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	limit, before, err := page(r, "mov")
	if err != nil {
		return err
	}
	if s.walletStatus == nil {
		return notConfigured("customer look-ups")
	}
	ms, err := s.walletStatus.History(r.Context(), st, r.PathValue("id"), before, limit+1)
	if err != nil {
		return err
	}
	return writeTransactionPage(w, ms, limit)
}

// resetStartJSON is the answer of an agent's start of a payment-password reset.
type resetStartJSON struct {
	WalletID  string    `json:"wallet_id"`
	Status    string    `json:"status"` // always reset_required
	StartedAt time.Time `json:"started_at"`
}

// agentStartReset locks a wallet's payment password until its holder resets it in
// the app, after an identity check: POST /v1/agent/wallets/{id}/payment-password/reset
// {identity_check} (agent) → 200 {wallet_id, status: reset_required, started_at}.
// The customer is told in the inbox and by SMS.
// Errors: invalid_request, not_found, real_name_required, conflict.
func (s *Server) agentStartReset(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	var req struct {
		IdentityCheck string `json:"identity_check"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.payPasswords == nil {
		return notConfigured("payment passwords")
	}
	out, err := s.payPasswords.StartReset(r.Context(), st, r.PathValue("id"), req.IdentityCheck)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, resetStartJSON{WalletID: out.Wallet.ID, Status: string(hebao.PaymentPasswordResetRequired), StartedAt: out.At.UTC()})
}

// agentFreeze freezes a wallet: POST /v1/agent/wallets/{id}/freeze {reason} (agent).
// Errors: invalid_request, not_found, conflict.
func (s *Server) agentFreeze(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.walletStatus == nil {
		return notConfigured("wallet freezing")
	}
	wal, err := s.walletStatus.AgentFreeze(r.Context(), st, r.PathValue("id"), req.Reason)
	if err != nil {
		return err
	}
	return s.writeWalletStatus(w, wal)
}

// agentUnfreeze unfreezes a wallet after an identity check:
// POST /v1/agent/wallets/{id}/unfreeze {identity_check} (agent).
// Errors: invalid_request, not_found, conflict.
func (s *Server) agentUnfreeze(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	var req struct {
		IdentityCheck string `json:"identity_check"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.walletStatus == nil {
		return notConfigured("wallet freezing")
	}
	wal, err := s.walletStatus.AgentUnfreeze(r.Context(), st, r.PathValue("id"), req.IdentityCheck)
	if err != nil {
		return err
	}
	return s.writeWalletStatus(w, wal)
}

// adminSetTier sets a wallet's tier: POST /v1/admin/wallets/{id}/tier {tier} (admin).
// Errors: invalid_request, not_found.
func (s *Server) adminSetTier(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	var req struct {
		Tier int `json:"tier"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.walletStatus == nil {
		return notConfigured("wallet tiers")
	}
	wal, err := s.walletStatus.SetTier(r.Context(), st, r.PathValue("id"), req.Tier)
	if err != nil {
		return err
	}
	return s.writeWalletStatus(w, wal)
}
