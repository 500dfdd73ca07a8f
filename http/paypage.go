package http

import (
	"html/template"
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
)

// payPage is what a phone opens from an order's QR code (qr_payload): the order's
// merchant, amount and state, in Chinese and English, and a button into the wallet
// app (/#/pay/{id}), which takes the payment with a coupon and the payment password.
var payPage = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>荷包 Hebao — 付款 Pay {{.Merchant}}</title>
<style>
body{font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#f6f6f6;color:#222}
main{max-width:26rem;margin:0 auto;padding:1.5rem}
.card{background:#fff;border-radius:12px;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.amount{font-size:2.2rem;font-weight:600;margin:.5rem 0}
.muted{color:#666;font-size:.9rem}
.state{display:inline-block;padding:.2rem .6rem;border-radius:999px;background:#eef;font-size:.85rem}
.pay{display:block;text-align:center;background:#c8102e;color:#fff;text-decoration:none;font-weight:600;padding:.8rem;border-radius:10px;margin:1rem 0 .5rem}
code{font-size:.8rem;word-break:break-all}
</style>
</head>
<body>
<main>
<p class="muted">荷包 Hebao</p>
<div class="card">
<p>付款给 Pay to <strong>{{.Merchant}}</strong></p>
<p class="amount">¥{{.Amount}}</p>
<p>{{.Subject}}</p>
<p><span class="state">{{.State}}</span></p>
{{if .Open}}<p class="muted">请在 {{.Expires}} 前付款。Pay before {{.Expires}} (China time).</p>
<a class="pay" id="pay-in-app" href="/#/pay/{{.ID}}">在荷包中付款 Pay in the wallet</a>
<p class="muted">Apps pay with <code>POST /v1/orders/{{.ID}}/pay</code> and the payment password (see docs/merchants.md).</p>{{end}}
</div>
<p class="muted">Order <code>{{.ID}}</code></p>
</main>
</body>
</html>
`))

// chinaTime is UTC+8, the time the page shows.
var chinaTime = time.FixedZone("CST", 8*3600)

// payPageView is what payPage shows.
type payPageView struct {
	ID, Merchant, Amount, Subject, State, Expires string
	Open                                          bool
}

// orderPage is GET /pay/{id}: the page an order's QR code opens. Anyone may open it:
// it shows the merchant, amount, subject and state of an order made to be scanned,
// nothing about who paid it.
// Errors: not_found.
func (s *Server) orderPage(w http.ResponseWriter, r *http.Request) error {
	if s.orders == nil {
		return notConfigured("orders")
	}
	co, err := s.orders.ForCustomer(r.Context(), "", r.PathValue("id"))
	if err != nil {
		return err
	}
	o := co.Order
	state := map[hebao.OrderStatus]string{hebao.OrderNotPaid: "待付款 Waiting for payment", hebao.OrderSuccess: "已付款 Paid",
		hebao.OrderRefund: "已付款 Paid", hebao.OrderClosed: "已关闭 Closed", hebao.OrderUserPaying: "待确认 Waiting for confirmation"}[o.Status]
	v := payPageView{ID: o.ID, Merchant: co.Merchant.Name, Amount: hebao.FormatYuan(o.Amount), Subject: o.Subject, State: state,
		Expires: o.ExpiresAt.In(chinaTime).Format("2006-01-02 15:04"), Open: o.Status.Open()}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return payPage.Execute(w, v)
}
