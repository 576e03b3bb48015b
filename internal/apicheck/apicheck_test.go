// Package apicheck holds one test: no exported identifier of a public package
// names a type from an internal/ package, which a user in another module could
// neither import nor construct. The examples/ module catches the leaks its
// tests happen to touch; this catches the rest.
package apicheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestPublicAPIUsesNoInternalTypes(t *testing.T) {
	root := filepath.Join("..", "..")
	var leaks []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch {
			case rel == ".":
				return nil
			case strings.HasPrefix(d.Name(), "."), d.Name() == "testdata",
				rel == "internal", rel == "cmd", rel == "examples", rel == "docs":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		leaks = append(leaks, fileLeaks(t, path, rel)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(leaks)
	for _, l := range leaks {
		t.Error(l)
	}
}

// fileLeaks lists the exported declarations of one file whose types name an
// internal package.
func fileLeaks(t *testing.T, path, rel string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name.Name == "main" {
		return nil
	}
	internal := map[string]string{} // local import name → path
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if !strings.Contains(p, "/internal/") && !strings.HasSuffix(p, "/internal") {
			continue
		}
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		internal[name] = p
	}
	if len(internal) == 0 {
		return nil
	}
	var out []string
	check := func(what string, n ast.Expr) {
		if n == nil {
			return
		}
		ast.Inspect(n, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && internal[id.Name] != "" {
					out = append(out, rel+": "+what+" names "+id.Name+"."+sel.Sel.Name+" ("+internal[id.Name]+")")
				}
			}
			return true
		})
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
				continue
			}
			name := d.Name.Name
			if d.Recv != nil {
				name = recvName(d.Recv) + "." + name
			}
			check(name, d.Type)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					checkType(s.Name.Name, s, check)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							check(n.Name, s.Type)
						}
					}
				}
			}
		}
	}
	return out
}

// checkType checks what a user of an exported type sees: an alias's target,
// exported fields (and embedded types), interface methods, or the whole type.
func checkType(name string, s *ast.TypeSpec, check func(string, ast.Expr)) {
	if s.TypeParams != nil {
		for _, p := range s.TypeParams.List {
			check(name+" type parameter", p.Type)
		}
	}
	switch ty := s.Type.(type) {
	case *ast.StructType:
		for _, fld := range ty.Fields.List {
			if len(fld.Names) == 0 {
				check(name+" (embedded)", fld.Type)
			}
			for _, n := range fld.Names {
				if n.IsExported() {
					check(name+"."+n.Name, fld.Type)
				}
			}
		}
	case *ast.InterfaceType:
		for _, m := range ty.Methods.List {
			if len(m.Names) == 0 || m.Names[0].IsExported() {
				check(name+" method", m.Type)
			}
		}
	default:
		check(name, s.Type)
	}
}

func recvName(fl *ast.FieldList) string {
	t := fl.List[0].Type
	if st, ok := t.(*ast.StarExpr); ok {
		t = st.X
	}
	switch x := t.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.IndexExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			return id.Name
		}
	case *ast.IndexListExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return "?"
}

func exportedRecv(fl *ast.FieldList) bool { return ast.IsExported(recvName(fl)) }
