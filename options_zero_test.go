package isledb_test

import (
	"log/slog"
	"reflect"
	"testing"

	"github.com/isledb/isledb"
)

// stripUncomparable zeroes what reflect.DeepEqual cannot compare by value (callbacks, loggers)
// and the fields named in skip, from a pointer to an options struct, recursively.
func stripUncomparable(v reflect.Value, skip map[string]bool) {
	v = v.Elem()
	loggerType := reflect.TypeFor[*slog.Logger]()
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		switch {
		case !sf.IsExported():
		case skip[sf.Name]:
			f.Set(reflect.Zero(f.Type()))
		case f.Kind() == reflect.Func || f.Type() == loggerType:
			f.Set(reflect.Zero(f.Type()))
		case f.Kind() == reflect.Struct:
			stripUncomparable(f.Addr(), skip)
		}
	}
}

// TestZeroOptionsAreDefaults: the zero value of every options struct, once its defaults are
// applied, is its Default*() (issue 14, item 3), except for readerExceptions: the fields the
// seed API fixes (ReaderOpenOptions.BlockCacheSize: 0 = no block cache; the seed's
// ValidateSSTChecksum flags, validation being on either way with DisableSSTChecksum the
// switch), CacheDir (a location, not a setting), and two known differences of the reader
// not yet resolved: AllowUnverifiedRangeRead (false, the safe value, in the zero value; true
// in the defaults) and PrefetchOnRefreshBytes (0 = off; 256 MiB in the defaults).
func TestZeroOptionsAreDefaults(t *testing.T) {
	check := func(name string, zero, def any, skip ...string) {
		t.Helper()
		s := map[string]bool{}
		for _, f := range skip {
			s[f] = true
		}
		z, d := reflect.ValueOf(zero), reflect.ValueOf(def)
		stripUncomparable(z, s)
		stripUncomparable(d, s)
		if !reflect.DeepEqual(z.Elem().Interface(), d.Elem().Interface()) {
			t.Errorf("%s: zero value with defaults\n  %+v\nDefault*()\n  %+v", name, z.Elem().Interface(), d.Elem().Interface())
		}
	}
	readerExceptions := []string{"BlockCacheSize", "ValidateSSTChecksum", "CacheDir", "AllowUnverifiedRangeRead", "PrefetchOnRefreshBytes"}
	var w isledb.WriterOptions
	w.EnsureDefaults()
	dw := isledb.DefaultWriterOptions()
	check("WriterOptions", &w, &dw)

	var r isledb.ReaderOpenOptions
	r.EnsureDefaults()
	dr := isledb.DefaultReaderOpenOptions()
	check("ReaderOpenOptions", &r, &dr, readerExceptions...)

	var c isledb.CompactorOptions
	c.EnsureDefaults()
	dc := isledb.DefaultCompactorOptions()
	check("CompactorOptions", &c, &dc, "ValidateSSTChecksum")

	var rc isledb.RetentionCompactorOptions
	rc.EnsureDefaults()
	drc := isledb.DefaultRetentionCompactorOptions()
	check("RetentionCompactorOptions", &rc, &drc)

	var tr isledb.TailingReaderOpenOptions
	tr.EnsureDefaults()
	dtr := isledb.DefaultTailingReaderOpenOptions()
	check("TailingReaderOpenOptions", &tr, &dtr, readerExceptions...)
}
