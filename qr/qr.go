// Package qr draws QR codes of short texts — a payment code, an order's pay URL — as
// PNG or SVG images. The encoding is github.com/skip2/go-qrcode's, at error
// correction level M (15% of the code may be damaged), the usual level for codes
// shown on screens and printed at a till.
package qr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// The limits of the texts and images.
const (
	MaxText = 1024 // bytes
	MinSize = 128  // pixels
	MaxSize = 1024 // pixels
)

// QuietZone is the white border, in modules, that QR readers need around a code.
const QuietZone = 4

// ErrTooLong is returned for a text over MaxText bytes.
var ErrTooLong = errors.New("qr: the text is longer than 1024 bytes")

// encode returns the QR code of text.
func encode(text string) (*qrcode.QRCode, error) {
	if len(text) > MaxText {
		return nil, ErrTooLong
	}
	if text == "" {
		return nil, errors.New("qr: the text is empty")
	}
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return q, nil
}

// PNG returns a black-on-white PNG of the QR code of text, size pixels square, with
// the quiet zone. size is clamped to MinSize..MaxSize; an image is never smaller than
// one pixel per module, though, so a long text at a small size gets a larger image.
// It returns ErrTooLong for a text over MaxText bytes.
func PNG(text string, size int) ([]byte, error) {
	q, err := encode(text)
	if err != nil {
		return nil, err
	}
	// The library draws the quiet zone, QuietZone modules wide.
	return q.PNG(min(max(size, MinSize), MaxSize))
}

// SVG returns an SVG image of the QR code of text: black modules, drawn as one path
// of unit squares on a white background, with the quiet zone. Its viewBox is in
// modules and it has no width or height, so it takes the size its page gives it;
// it references nothing outside itself. It
// returns ErrTooLong for a text over MaxText bytes.
func SVG(text string) ([]byte, error) {
	q, err := encode(text)
	if err != nil {
		return nil, err
	}
	q.DisableBorder = true // svg draws its own
	return svg(q.Bitmap()), nil
}

// svg draws bitmap, whose true cells are dark modules, with a QuietZone border.
func svg(bitmap [][]bool) []byte {
	n := len(bitmap) + 2*QuietZone
	side := strconv.Itoa(n)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 ` + side + " " + side +
		`" shape-rendering="crispEdges">` + "\n")
	b.WriteString(`<rect width="` + side + `" height="` + side + `" fill="#fff"/>` + "\n")
	b.WriteString(`<path fill="#000" d="`)
	for y, row := range bitmap {
		for x, dark := range row {
			if dark {
				// An absolute move to the module, then a relative unit square.
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+QuietZone, y+QuietZone)
			}
		}
	}
	b.WriteString(`"/>` + "\n</svg>\n")
	return []byte(b.String())
}
