# Generates tclsh.tsv with Tcl's own `package vcompare` / `package vsatisfies` (tclsh 8.6.13),
# run once:   tclsh generate.tcl > tclsh.tsv
# Rows: "V<TAB>version<TAB>OK|ERR", "C<TAB>a<TAB>b<TAB>vcompare", "S<TAB>v<TAB>req<TAB>0|1".
set versions {0 0.1 1 1.0 1.0.0 1.0.1 1.2 1.3 1.3.0.0 1.10 01.2 2 2.0 8.4 8.5 8.5.0 8.5a1 8.5a2
    8.5b1 8.5.1 8.5.10 8.6 8.6a0 8.6b2 8.6.13 9 9a0 9a1 9b1 9.0 9.0.1 10 1.2a3.4 3a 3.a1 a1
    1..2 1.2. .1 1.2a1b2 1.2-3 8.5.a1 v1 {}}
set valid {}
foreach v $versions {
    if {[catch {package vcompare $v $v}]} {
        puts "V\t$v\tERR"
    } else {
        puts "V\t$v\tOK"
        lappend valid $v
    }
}
foreach a $valid {
    foreach b $valid {
        puts "C\t$a\t$b\t[package vcompare $a $b]"
    }
}
set requirements {8.5 8.5- 8.5-9 8.5-8.5 8.5-8.6 8.5a1 8.5a1-8.6b2 8.5b1- 9- 9.0 9a0-10 1-2 0- 0 1.0-1.0 8-8.5}
foreach v $valid {
    foreach r $requirements {
        puts "S\t$v\t$r\t[package vsatisfies $v $r]"
    }
}
