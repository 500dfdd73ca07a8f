package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hebaopay/hebao"
)

// pointsJSON is GET /v1/points: the caller's points balance, the yearly buckets
// that still hold points, a page of the points history and what the running
// campaigns give for points.
type pointsJSON struct {
	Balance int64              `json:"balance"`
	Buckets []pointsBucketJSON `json:"buckets"`
	History []pointsEntryJSON  `json:"history"`
	// NextBefore is the seq to pass as ?before= for the next page; absent when
	// this page was not full.
	NextBefore *int64            `json:"next_before,omitempty"`
	Offers     []pointsOfferJSON `json:"offers"`
}

type pointsBucketJSON struct {
	Year      int       `json:"year"`
	Earned    int64     `json:"earned"`
	Remaining int64     `json:"remaining"`
	ExpiresAt time.Time `json:"expires_at"`
}

// pointsEntryJSON is one line of the points history: Amount is signed, positive
// for points in.
type pointsEntryJSON struct {
	Seq        int64     `json:"seq"`
	TransferID string    `json:"transfer_id"`
	Kind       string    `json:"kind"`
	Ref        string    `json:"ref"`
	Amount     int64     `json:"amount"`
	CreatedAt  time.Time `json:"created_at"`
}

// pointsOfferJSON is one thing a running campaign gives for points: Fen fen for
// every Points points (kind cash), or a coupon for Points points (kind coupon),
// redeemed by its Index, Left more times (-1: no limit).
type pointsOfferJSON struct {
	CampaignID   string                `json:"campaign_id"`
	CampaignName string                `json:"campaign_name"`
	Kind         string                `json:"kind"`
	Points       int64                 `json:"points"`
	Fen          int64                 `json:"fen,omitempty"`
	Coupon       *hebao.CouponTemplate `json:"coupon,omitempty"`
	Index        *int                  `json:"index,omitempty"`
	Left         *int                  `json:"left,omitempty"`
}

func pointsOut(v hebao.PointsView, limit int) pointsJSON {
	out := pointsJSON{Balance: v.Balance, Buckets: []pointsBucketJSON{}, History: []pointsEntryJSON{}, Offers: []pointsOfferJSON{}}
	for _, b := range v.Buckets {
		out.Buckets = append(out.Buckets, pointsBucketJSON{Year: b.Year, Earned: b.Earned, Remaining: b.Remaining, ExpiresAt: b.ExpiresAt().UTC()})
	}
	for _, e := range v.History {
		out.History = append(out.History, pointsEntryJSON{Seq: e.Seq, TransferID: e.TransferID, Kind: string(e.Kind), Ref: e.Ref,
			Amount: e.Amount, CreatedAt: e.CreatedAt.UTC()})
	}
	if n := len(v.History); n > 0 && n >= limit {
		seq := v.History[n-1].Seq
		out.NextBefore = &seq
	}
	for _, o := range v.Offers {
		j := pointsOfferJSON{CampaignID: o.CampaignID, CampaignName: o.CampaignName}
		switch {
		case o.Cash != nil:
			j.Kind, j.Points, j.Fen = "cash", o.Cash.Points, o.Cash.Fen
		case o.Coupon != nil:
			index, left := o.Index, o.Left
			coupon := o.Coupon.Coupon
			j.Kind, j.Points, j.Coupon, j.Index, j.Left = "coupon", o.Coupon.Points, &coupon, &index, &left
		default:
			continue
		}
		out.Offers = append(out.Offers, j)
	}
	return out
}

// getPoints is GET /v1/points?before=&limit=: the caller's points balance, the
// buckets holding points with when each expires, the history newest first (limit
// lines, 20 when absent, of sequence below before) and the running campaigns'
// offers for points.
// Errors: invalid_request (before, limit), not_found (no wallet), unavailable.
func (s *Server) getPoints(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	q := r.URL.Query()
	limit, err := hebao.ParsePageSize(q.Get("limit"))
	if err != nil {
		return err
	}
	limit = min(limit, hebao.MaxPointsHistory)
	var before int64
	if b := q.Get("before"); b != "" {
		if before, err = strconv.ParseInt(b, 10, 64); err != nil || before < 1 {
			return invalid("before must be the seq of a history line, a positive integer")
		}
	}
	if s.points == nil {
		return notConfigured("points")
	}
	v, err := s.points.Points(r.Context(), sess.CustomerID, before, limit)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, pointsOut(v, limit))
}

// redeemRequest is the body of POST /v1/points/redeem: points for kind cash, the
// offer's index as coupon for kind coupon.
type redeemRequest struct {
	CampaignID string `json:"campaign_id"`
	Kind       string `json:"kind"`
	Points     *int64 `json:"points,omitempty"`
	Coupon     *int   `json:"coupon,omitempty"`
}

// redemptionJSON is what redeeming points did.
type redemptionJSON struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Points      int64     `json:"points"`
	Cash        int64     `json:"cash"`
	CouponID    string    `json:"coupon_id,omitempty"`
	PointsAfter int64     `json:"points_after"`
	CreatedAt   time.Time `json:"created_at"`
}

// redeemedReply renders a redemption: 201 and the JSON stored with the key and sent
// again, byte for byte, to every retry.
func redeemedReply(red hebao.Redemption) (hebao.Reply, error) {
	b, err := json.Marshal(redemptionJSON{ID: red.ID, Kind: red.Kind, Points: red.Points, Cash: red.Cash, CouponID: red.CouponID,
		PointsAfter: red.PointsAfter, CreatedAt: red.CreatedAt.UTC()})
	if err != nil {
		return hebao.Reply{}, fmt.Errorf("encode redemption: %w", err)
	}
	return hebao.Reply{Status: http.StatusCreated, Body: append(b, '\n')}, nil
}

// redeemPoints turns points into cash or a coupon at a running campaign's rate:
// POST /v1/points/redeem {campaign_id, kind: cash, points} or {campaign_id, kind:
// coupon, coupon} with an Idempotency-Key → 201 {id, kind, points, cash, coupon_id,
// points_after, created_at}.
// Errors: invalid_request, not_found (campaign or offer), insufficient_funds (too few
// points), promotion_unavailable, wallet_frozen, balance_cap_exceeded,
// idempotency_key_reused, idempotency_key_in_use, unavailable.
func (s *Server) redeemPoints(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req redeemRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in := hebao.RedeemRequest{CustomerID: sess.CustomerID, CampaignID: req.CampaignID, Kind: req.Kind, Reply: redeemedReply}
	switch req.Kind {
	case "cash":
		if req.Points == nil || req.Coupon != nil {
			return invalid("kind cash takes points, the number of points to turn into cash, and no coupon")
		}
		in.Points = *req.Points
	case "coupon":
		if req.Coupon == nil || req.Points != nil {
			return invalid("kind coupon takes coupon, the index of the campaign's coupon offer, and no points")
		}
		in.CouponIndex = *req.Coupon
	default:
		return invalid("kind must be cash or coupon")
	}
	// The helper checks the header; the service scopes the key and hashes the
	// request itself.
	key, err := idempotencyKey(r, sess, "POST /v1/points/redeem", req)
	if err != nil {
		return err
	}
	in.Key = key.Key
	if s.points == nil {
		return notConfigured("points")
	}
	rep, err := s.points.Redeem(r.Context(), in)
	if err != nil {
		return err
	}
	return writeReply(w, rep)
}
