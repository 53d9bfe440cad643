package cli

import (
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// show returns b as text: itself if it is printable UTF-8 without spaces at its ends,
// else a Go-quoted string.
func show(b []byte) string {
	if printable(b) {
		return string(b)
	}
	return strconv.Quote(string(b))
}

func printable(b []byte) bool {
	if !utf8.Valid(b) || len(b) == 0 {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) || r == '"' {
			return false
		}
	}
	return b[0] != ' ' && b[len(b)-1] != ' '
}

// size formats a byte count in binary units.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// age formats how long ago t was, to the second ("-" for the zero time).
func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		return "in " + (-d).String()
	}
	return d.String() + " ago"
}
