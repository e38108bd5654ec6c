// Calls golang.org/x/net/html.Render, the function GO-2023-1988 names: the vulnerable code is linked in.
package main

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/net/html"
)

func main() {
	doc := &html.Node{Type: html.TextNode, Data: "<hi>"}
	var b strings.Builder
	if err := html.Render(&b, doc); err != nil {
		os.Exit(1)
	}
	fmt.Println(b.String())
}
