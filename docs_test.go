package isledb_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsListEveryPackage keeps the two maps of the tree honest: the README's Layout
// section and docs/architecture.md must name every package of the module (a directory
// holding non-test Go files), so a newcomer's map never leaves a package out. Examples are
// listed by name under examples/; the bench module is listed as bench/.
func TestDocsListEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	layout := section(string(readme), "## Layout")
	if layout == "" {
		t.Fatal("README.md has no ## Layout section")
	}
	arch, err := os.ReadFile(filepath.Join("docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range packageDirs(t) {
		for _, doc := range []struct{ name, text string }{{"README.md Layout", layout}, {"docs/architecture.md", string(arch)}} {
			if !lists(doc.text, dir) {
				t.Errorf("%s does not list package %s/", doc.name, dir)
			}
		}
	}
}

// section returns the text of the Markdown section headed by heading, up to the next
// heading of the same level.
func section(doc, heading string) string {
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		return ""
	}
	rest := doc[i+len(heading)+2:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// lists reports whether text names the package directory dir.
func lists(text, dir string) bool {
	top, rest, nested := strings.Cut(dir, "/")
	switch {
	case top == "bench":
		return strings.Contains(text, "bench/")
	case top == "examples" && nested:
		return strings.Contains(text, "examples/") && regexp.MustCompile(`\b`+regexp.QuoteMeta(rest)+`\b`).MatchString(text)
	default:
		return strings.Contains(text, dir+"/")
	}
}

// packageDirs lists the module's package directories, relative to the root (which is
// left out), skipping testdata and hidden directories.
func packageDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." || seen[dir] || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		seen[dir] = true
		dirs = append(dirs, dir)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}
