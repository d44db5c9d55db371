package imagedecode

// The package's C (imagedecode.h, and one .c file per format beside its Go
// file) compiles with these warnings; `make vet` turns them into errors
// (the c-warnings target).

/*
#cgo CFLAGS: -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wpointer-arith -Wundef -Wvla -Wcast-qual -Wwrite-strings
*/
import "C"
