// Escapes its name with golang.org/x/net/html, then runs until its standard input closes: a
// live Go process for `runbom attach` and `runbom agent` to read.
package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/net/html"
)

func main() {
	fmt.Println(html.EscapeString(os.Args[0] + " <ready>"))
	_, _ = io.Copy(io.Discard, os.Stdin)
}
