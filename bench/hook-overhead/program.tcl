# bench/hook-overhead's Tcl program: requires 40 packages of Debian's tcllib (with the packages
# they require in turn), uses a few, and prints how many packages are present at exit.
foreach name {
    json json::write base64 md5 sha1 sha256 cmdline struct::list struct::set struct::stack
    struct::queue struct::tree struct::graph textutil textutil::split textutil::string csv
    uri ncgi html htmlparse mime smtp fileutil logger log term::ansi::code::ctrl uuid crc32
    des aes blowfish math math::statistics math::bigfloat yaml sha1 report snit asn tar
} {
    package require $name
}
set digest [md5::md5 -hex [json::write object a [json::write string b]]]
set encoded [base64::encode [string repeat runbom 100]]
set sorted [struct::list reverse [lsort [split $encoded {}]]]
set count 0
foreach name [package names] {
    if {![catch {package present $name}]} {
        incr count
    }
}
puts $count
