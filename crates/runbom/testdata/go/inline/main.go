// Calls two vulnerable functions small enough that the compiler inlines them at the call and
// links no copy of their own: dnsmessage's Parser.Answer (GO-2026-5942) and netip's
// Addr.IsLoopback (GO-2024-2887). Only the inline trees of main.main record them.
package main

import (
	"fmt"
	"net/netip"
	"os"

	"golang.org/x/net/dns/dnsmessage"
)

func main() {
	address := "::ffff:127.0.0.1"
	if len(os.Args) > 1 {
		address = os.Args[1]
	}
	addr, err := netip.ParseAddr(address)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	fmt.Println(address, "loopback:", addr.IsLoopback())

	// A message with no questions and no answers: Answer says the section is done.
	var p dnsmessage.Parser
	if _, err := p.Start(make([]byte, 12)); err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	if err := p.SkipAllQuestions(); err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	_, err = p.Answer()
	fmt.Println("answer:", err)
}
