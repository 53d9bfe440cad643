package cli

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isledb/isledb/internal/testutil"
)

// svgRect is what the view test reads of each SST.
type svgRect struct {
	class, title string
	width        string
}

// parseView parses the view's page as XML and returns its SST rectangles and table rows.
func parseView(t *testing.T, page []byte) (rects []svgRect, rows int) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(page)))
	d.Strict = true
	var cur *svgRect
	var inTitle bool
	sawSVG := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("view is not well-formed: %v\n%s", err, page)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "svg":
				sawSVG = e.Name.Space == "http://www.w3.org/2000/svg"
			case "rect":
				r := svgRect{}
				for _, a := range e.Attr {
					switch a.Name.Local {
					case "class":
						r.class = a.Value
					case "width":
						r.width = a.Value
					}
				}
				rects = append(rects, r)
				cur = &rects[len(rects)-1]
			case "title":
				inTitle = cur != nil
			case "tr":
				rows++
			case "script", "link", "img":
				t.Errorf("view has a <%s>: it must be self-contained", e.Name.Local)
			}
		case xml.CharData:
			if inTitle {
				cur.title += string(e)
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "title":
				inTitle = false
			case "rect":
				cur = nil
			}
		}
	}
	if !sawSVG {
		t.Error("view has no SVG element")
	}
	return rects, rows - 1 // the header row
}

// TestView renders the tree before and after a compaction and checks every SST is drawn.
func TestView(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		f := newFixture(t, b)
		f.populate()
		m := f.manifest()
		out := filepath.Join(t.TempDir(), "tree.html")
		wantContains(t, f.must(ExitOK, "view", "-o", out), "3 L0 SSTs, 0 sorted runs, 0 SSTs out of the manifest")
		page, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		rects, rows := parseView(t, page)
		if len(rects) != 3 || rows != 3 {
			t.Fatalf("%d rects, %d table rows, want 3", len(rects), rows)
		}
		for i, s := range m.L0SSTs {
			if !strings.Contains(rects[i].class, "sst") || !strings.Contains(rects[i].title, s.ID) || !strings.Contains(rects[i].title, "L0") {
				t.Errorf("rect %d: %+v, want L0 SST %s", i, rects[i], s.ID)
			}
		}
		wantContains(t, rects[2].title, "keys k00 .. k09", "10 entries")

		f.must(ExitOK, "compact", "-l0", "2")
		m2 := f.manifest()
		page = []byte(f.must(ExitOK, "view", "-o", "-", "-grace", "1ns"))
		rects, _ = parseView(t, page)
		if len(rects) != 4 {
			t.Fatalf("after compaction: %d rects, want 1 run SST and 3 for GC", len(rects))
		}
		wantContains(t, rects[0].title, m2.SortedRuns[0].SSTs[0].ID, "run ")
		for i, s := range m.L0SSTs {
			_ = i
			found := false
			for _, r := range rects[1:] {
				if strings.Contains(r.title, s.ID) && strings.Contains(r.class, "gcnow") && strings.Contains(r.title, "deleted by the next pass") {
					found = true
				}
			}
			if !found {
				t.Errorf("compacted SST %s not drawn as deletable: %+v", s.ID, rects)
			}
		}
	})
}
