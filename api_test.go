package isledb_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAPINoInternalTypes: no exported function, method, field or type of the public
// packages mentions a type from an internal package, which a user could not name. The
// check reads the source: every package-qualified type in an exported declaration's
// signature must come from a package whose import path has no internal element.
func TestAPINoInternalTypes(t *testing.T) {
	for _, dir := range []string{".", "blobstore", "manifest", "config", "sstsign", "wal", "kv"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			internal := map[string]string{} // local name → import path, for internal imports
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if !isInternalPath(path) {
					continue
				}
				local := path[strings.LastIndex(path, "/")+1:]
				if imp.Name != nil {
					local = imp.Name.Name
				}
				internal[local] = path
			}
			if len(internal) == 0 {
				continue
			}
			check := func(where string, n ast.Node) {
				if n == nil {
					return
				}
				ast.Inspect(n, func(n ast.Node) bool {
					if sel, ok := n.(*ast.SelectorExpr); ok {
						if id, ok := sel.X.(*ast.Ident); ok {
							if path, ok := internal[id.Name]; ok {
								t.Errorf("%s: %s exposes %s.%s (%s)", fset.Position(sel.Pos()), where, id.Name, sel.Sel.Name, path)
							}
						}
					}
					return true
				})
			}
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
						continue
					}
					check(d.Name.Name, d.Type)
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						ts, ok := spec.(*ast.TypeSpec)
						if !ok || !ts.Name.IsExported() {
							continue
						}
						if ts.Assign != 0 {
							continue // an alias re-exports on purpose (type Manifest = manifest.Manifest)
						}
						checkExportedParts(ts.Name.Name, ts.Type, check)
					}
				}
			}
		}
	}
}

// checkExportedParts checks the exported fields and methods of a type declaration.
func checkExportedParts(name string, typ ast.Expr, check func(string, ast.Node)) {
	switch tt := typ.(type) {
	case *ast.StructType:
		for _, f := range tt.Fields.List {
			for _, n := range f.Names {
				if n.IsExported() {
					check(name+"."+n.Name, f.Type)
				}
			}
			if len(f.Names) == 0 { // an embedded field is exported with its type's name
				check(name+" (embedded)", f.Type)
			}
		}
	case *ast.InterfaceType:
		for _, m := range tt.Methods.List {
			check(name+" (method)", m.Type)
		}
	default:
		check(name, typ)
	}
}

func isInternalPath(path string) bool {
	for _, el := range strings.Split(path, "/") {
		if el == "internal" {
			return true
		}
	}
	return false
}

func exportedRecv(recv *ast.FieldList) bool {
	if len(recv.List) == 0 {
		return false
	}
	typ := recv.List[0].Type
	for {
		switch tt := typ.(type) {
		case *ast.StarExpr:
			typ = tt.X
		case *ast.IndexExpr:
			typ = tt.X
		case *ast.IndexListExpr:
			typ = tt.X
		case *ast.Ident:
			return tt.IsExported()
		default:
			return false
		}
	}
}
