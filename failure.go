package hebao

// Failure explains in plain words why an operation failed or is still pending
// (SPEC §9 "Why did my payment fail?"): the stable reason code, what happened, and
// what the customer can do next. Explanation and NextStep are written for customers:
// short, friendly, concrete sentences, each ending with a full stop.
type Failure struct {
	Code        string
	Explanation string
	NextStep    string
}

// FailurePending is the code Explain takes for an operation still pending at the bank.
const FailurePending = "pending"

// FailureAwaitingConfirmation is the code Explain takes for a till's payment waiting
// for the customer to confirm it in the app.
const FailureAwaitingConfirmation = "awaiting_confirmation"

// unknownFailure is what Explain says for a code it does not know.
var unknownFailure = Failure{
	Explanation: "Something went wrong with this operation and we could not tell exactly what.",
	NextStep:    "Please contact customer service and give them the transaction id, and we will look into it for you.",
}

// failures holds the explanation of every public error code (Codes) and of a pending
// operation. A test keeps it complete.
var failures = map[string]Failure{
	FailureAwaitingConfirmation: {
		Explanation: "A till is waiting for you to confirm this payment with your payment password. Nothing has been taken yet, and nothing will be if you do not confirm within 60 seconds.",
		NextStep:    "Confirm it in the app if you are paying at a till now; otherwise ignore it and it closes by itself.",
	},
	FailurePending: {
		Explanation: "The bank has not answered yet. Your money is safe: a top-up is credited to your wallet only once, and for a withdrawal the amount is held and given back to your wallet if the bank declines.",
		NextStep:    "There is no need to try again; the result usually arrives within a few minutes and we will notify you.",
	},
	CodeInternal: {
		Explanation: "Something went wrong on our side. None of your details were exposed, and the operation did not go through.",
		NextStep:    "Please try again in a few minutes; if it keeps happening, contact customer service.",
	},
	CodeInvalidRequest: {
		Explanation: "Some of the details sent were missing or not in the right form, so nothing was done.",
		NextStep:    "Check the details, such as the amount, and try again.",
	},
	CodeUnauthenticated: {
		Explanation: "You are not signed in, or your session has ended.",
		NextStep:    "Sign in again and retry.",
	},
	CodeForbidden: {
		Explanation: "This account is not allowed to do this.",
		NextStep:    "Sign in with the right account, or contact customer service if you think this is a mistake.",
	},
	CodeNotFound: {
		Explanation: "We could not find what you asked for; it may not exist or may belong to someone else.",
		NextStep:    "Check the number or link and try again.",
	},
	CodeInsufficientFunds: {
		Explanation: "Your wallet balance is not enough to cover this amount, so nothing was taken.",
		NextStep:    "Top up your wallet from a bank card, or pay a smaller amount.",
	},
	CodeLimitExceeded: {
		Explanation: "This would go over a payment limit of your wallet's tier: the most you can pay at once, per day, or per year. The daily limit resets at midnight Beijing time (UTC+8), and the yearly limit on 1 January.",
		NextStep:    "Pay a smaller amount, wait until the limit resets, or raise your tier by verifying your identity and binding a bank card.",
	},
	CodeBalanceCapExceeded: {
		Explanation: "This would take the wallet above the most it can hold for its tier, so nothing was moved. For a transfer, it may be the receiver's wallet that is full.",
		NextStep:    "Use a smaller amount, or raise the wallet's tier by verifying identity and binding a bank card.",
	},
	CodeWalletFrozen: {
		Explanation: "Your wallet is frozen (stop-payment), so it cannot pay, transfer or withdraw. It can still receive refunds.",
		NextStep:    "Unfreeze it in the app with an SMS code and your ID number, or contact customer service.",
	},
	CodePaymentPasswordWrong: {
		Explanation: "The payment password was wrong. After 5 wrong tries in a row, payments are locked for 3 hours.",
		NextStep:    "Try again carefully, or reset your payment password with an SMS code and your ID number.",
	},
	CodePaymentPasswordLocked: {
		Explanation: "Payments are locked for 3 hours because the payment password was wrong 5 times in a row.",
		NextStep:    "Wait until the 3 hours are over, or reset your payment password now with an SMS code and your ID number.",
	},
	CodeOTPInvalid: {
		Explanation: "The SMS code was wrong, or it was already used.",
		NextStep:    "Check the latest SMS code and enter it again, or ask for a new one.",
	},
	CodeOTPExpired: {
		Explanation: "The SMS code has expired; each code is valid for 5 minutes.",
		NextStep:    "Ask for a new SMS code and enter it within 5 minutes.",
	},
	CodeRateLimited: {
		Explanation: "There were too many attempts in a short time, so we paused this for your safety.",
		NextStep:    "Wait a little while and try again.",
	},
	CodeOrderClosed: {
		Explanation: "This order was closed by the merchant or has expired, so it can no longer be paid. You were not charged.",
		NextStep:    "Ask the merchant for a new order or QR code.",
	},
	CodeOrderAlreadyPaid: {
		Explanation: "This order has already been paid, so it was not charged a second time.",
		NextStep:    "Check your transaction history; there is nothing more to pay.",
	},
	CodeRefundExceedsPaid: {
		Explanation: "The refund is more than what is left of the amount paid for this order.",
		NextStep:    "Refund a smaller amount, no more than what was paid minus earlier refunds.",
	},
	CodeIdempotencyKeyReused: {
		Explanation: "This request repeated an earlier one but with different details, so it was not carried out.",
		NextStep:    "If you meant a new operation, start it again from the beginning in the app.",
	},
	CodeIdempotencyKeyInUse: {
		Explanation: "The same request is still being handled, so it was not started a second time.",
		NextStep:    "Wait a moment and check your transaction history before trying again.",
	},
	CodeCurrencyNotSupported: {
		Explanation: "Only Chinese yuan (CNY) is supported; payments in other currencies are not offered yet.",
		NextStep:    "Pay in yuan instead.",
	},
	CodeCardDeclined: {
		Explanation: "Your bank refused this card, so nothing was taken from it.",
		NextStep:    "Contact your bank to find out why, or use another card.",
	},
	CodeBankInsufficientFunds: {
		Explanation: "The bank account behind your card did not have enough money, so nothing was taken.",
		NextStep:    "Add money to that bank account, use another card, or try a smaller amount.",
	},
	CodeBankTimeout: {
		Explanation: "The bank did not answer in time, so the order was cancelled at the bank and you were not charged.",
		NextStep:    "Please try again.",
	},
	CodePayeeUnavailable: {
		Explanation: "The person you are paying cannot receive money right now because their wallet is frozen or closed. Nothing was taken from you.",
		NextStep:    "Ask them to check their wallet, or pay them another way.",
	},
	CodeCouponUnusable: {
		Explanation: "This coupon cannot be used for this payment: it may be used already, out of date, for another shop, below its minimum spend, or its promotion has run out. Nothing was taken.",
		NextStep:    "Pay without the coupon, or choose another one.",
	},
	CodePromotionUnavailable: {
		Explanation: "This offer cannot be taken now: its promotion has ended or run out, or you have taken it as many times as each customer may. Nothing was taken from your points.",
		NextStep:    "Look at the offers running now in your points page.",
	},
	CodePaymentCodeInvalid: {
		Explanation: "The payment code shown could not be used: codes last 60 seconds and work once. Nothing was taken.",
		NextStep:    "Refresh the payment code in the app and let the till scan it again.",
	},
	CodeNotifyURLForbidden: {
		Explanation: "The address given for notifications cannot receive them: it must be a secure web address on the public internet, not one inside a private network or on this machine.",
		NextStep:    "Give a public, secure address of your server, or leave it out and look the order up instead.",
	},
	CodeStepUpRequired: {
		Explanation: "For your safety, this needs an extra SMS code, for example on a new device or for a large payment from a device you only just started using.",
		NextStep:    "Ask for an SMS code, enter it, and confirm again.",
	},
	CodeClientUpgradeRequired: {
		Explanation: "This version of the app is too old to continue.",
		NextStep:    "Update the app to the latest version and try again.",
	},
	CodeConflict: {
		Explanation: "Something changed at the same moment, so this could not be done as asked.",
		NextStep:    "Refresh and try again.",
	},
	CodeUnavailable: {
		Explanation: "A service we depend on is not reachable right now, so nothing was done.",
		NextStep:    "Please try again in a few minutes.",
	},
	CodeIDNumberInvalid: {
		Explanation: "The ID number is not a valid resident ID number; a digit may be mistyped.",
		NextStep:    "Check all 18 characters of your ID number and enter it again.",
	},
	CodeCardNumberInvalid: {
		Explanation: "The card number is not valid; a digit may be mistyped.",
		NextStep:    "Check the number on your card and enter it again.",
	},
	CodeCardBankUnknown: {
		Explanation: "We do not recognise the bank of this card, so it cannot be added.",
		NextStep:    "Use a debit card from another major Chinese bank.",
	},
	CodePaymentPasswordWeak: {
		Explanation: "This payment password is too easy to guess, such as 123456 or 111111.",
		NextStep:    "Choose 6 digits that are not a simple sequence or repeated digit.",
	},
	CodeRealNameRequired: {
		Explanation: "This step needs your real name and ID number first.",
		NextStep:    "Add your real name and ID number in the app, then try again.",
	},
	CodeWalletNotEmpty: {
		Explanation: "A wallet can be closed only when it has no money left in it, including red-packet money.",
		NextStep:    "Withdraw or spend what is left, then close the wallet.",
	},
	CodeCardHolderMismatch: {
		Explanation: "The name on the card does not match the real name on your wallet.",
		NextStep:    "Add a card in your own name.",
	},
	CodeFaceCheckFailed: {
		Explanation: "The face check did not match the real name on your wallet.",
		NextStep:    "Try again in good light, facing the camera.",
	},
	CodeCardRequired: {
		Explanation: "This step needs a bank card in your name bound to your wallet first.",
		NextStep:    "Bind a bank card in your name, then try again.",
	},
}

// Explain returns the explanation of code; ok false for an unknown code (then a
// generic explanation is still returned, telling the customer to contact customer
// service with the transaction id).
func Explain(code string) (Failure, bool) {
	f, ok := failures[code]
	if !ok {
		f = unknownFailure
	}
	f.Code = code
	return f, ok
}
