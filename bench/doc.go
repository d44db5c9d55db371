// Package bench runs mclip's benchmark suite on full-size generated models
// and writes bench/results: a README with every figure as the median of
// several runs and its ratio to a reference measured in the same run, PNG
// charts, the command and the machine.
package bench
