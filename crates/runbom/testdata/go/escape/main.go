// Uses golang.org/x/net/html without its renderer: html.Render (GO-2023-1988) is not linked in.
package main

import (
	"fmt"
	"os"

	"golang.org/x/net/html"
)

func main() {
	fmt.Println(html.EscapeString(os.Args[0] + " <ok>"))
}
