# runbom's Tcl hook. `runbom run -- tclsh app.tcl a b` runs `tclsh runbom_hook.tcl app.tcl a b`:
# this file sets argv0, argv, argc and [info script] as tclsh would have for app.tcl, watches
# `source` and `load` with execution traces (which follow a command that the program renames),
# sources app.tcl, and writes what it saw as `tcl-<pid>.json` in RUNBOM_SESSION_DIR (written
# whole, then renamed into place) on change, at most once a second (RUNBOM_FLUSH_SECONDS), and
# when the program exits.
# The packages are those `package present` knows at each write: `package` itself is not traced,
# as Tcl's package search calls it tens of thousands of times. Nor is `source` while that search
# runs (the `package unknown` handler, which sources every pkgIndex.tcl along auto_path each time
# a package is not yet known: 3,618 of the 3,698 `source`s of 40 tcllib requires, and a trace
# costs ~20,000 instructions a call even when it does nothing). Standard Tcl 8.5+ only. Any
# failure of its own is one line on stderr, and the program runs as it would bare.

namespace eval ::runbom {
    variable script {}
    variable encoding {}
    variable observed 0
    variable dir {}
    variable file {}
    variable started 0
    variable errors 0
    variable files [dict create]
    variable dirty 0
    variable last_write 0
    variable flush_ms 1000
    variable pending {}
    variable exited 0
    variable searching 0
    variable source_command ::source
}

# tclsh's own arguments: `?-encoding NAME? SCRIPT ARG...`.
proc ::runbom::parse_arguments {} {
    variable script
    variable encoding
    set args $::argv
    if {[lindex $args 0] eq "-encoding" && [llength $args] >= 3} {
        set encoding [lindex $args 1]
        set args [lrange $args 2 end]
    }
    set script [lindex $args 0]
    set ::argv0 $script
    set ::argv [lrange $args 1 end]
    set ::argc [llength $::argv]
}

proc ::runbom::start {} {
    variable dir
    variable file
    variable started
    variable observed
    if {![info exists ::env(RUNBOM_SESSION_DIR)] || $::env(RUNBOM_SESSION_DIR) eq {}} {
        error "RUNBOM_SESSION_DIR is not set"
    }
    set dir $::env(RUNBOM_SESSION_DIR)
    if {![file isdirectory $dir] || ![file writable $dir]} {
        error "cannot write into `$dir`"
    }
    set file [file join $dir tcl-[pid].json]
    set started [clock milliseconds]
    variable last_write $started
    variable flush_ms
    if {[info exists ::env(RUNBOM_FLUSH_SECONDS)]
            && [string is double -strict $::env(RUNBOM_FLUSH_SECONDS)]
            && $::env(RUNBOM_FLUSH_SECONDS) > 1} {
        set flush_ms [expr {int($::env(RUNBOM_FLUSH_SECONDS) * 1000)}]
    }
    # The program's own script is named as Python names it, so that its directory is
    # first-party code.
    variable files
    dict set files [file normalize $::runbom::script] __main__
    trace add execution ::source enter ::runbom::on_source
    trace add command ::source {rename delete} ::runbom::on_source_renamed
    trace add execution ::load leave ::runbom::on_load
    trace add execution ::exit enter ::runbom::on_exit
    package unknown [list ::runbom::package_search [package unknown]]
    set observed 1
}

proc ::runbom::stop {} {
    variable observed
    set observed 0
    variable source_command
    catch {trace remove execution $source_command enter ::runbom::on_source}
    catch {trace remove command $source_command {rename delete} ::runbom::on_source_renamed}
    catch {trace remove execution ::load leave ::runbom::on_load}
    catch {trace remove execution ::exit enter ::runbom::on_exit}
}

# The `package unknown` handler the program had (Tcl's: `::tcl::tm::UnknownHandler
# ::tclPkgUnknown`), run as Tcl runs it (at global level, the package's name and version
# appended), with `source` untraced: what it sources is Tcl's package search, not the program's
# code. The `package ifneeded` scripts it registers run later, traced. A program that installs a
# handler of its own around this one is traced while its handler runs.
proc ::runbom::package_search {handler args} {
    variable observed
    variable searching
    variable source_command
    if {$observed && $searching == 0 && $source_command ne {}} {
        catch {trace remove execution $source_command enter ::runbom::on_source}
    }
    incr searching
    set code [catch {uplevel #0 [concat $handler $args]} result options]
    incr searching -1
    if {$observed && $searching == 0 && $source_command ne {}} {
        catch {trace add execution $source_command enter ::runbom::on_source}
    }
    dict incr options -level
    return -options $options $result
}

# The traces follow `source` when the program renames it; the names here follow too.
proc ::runbom::on_source_renamed {old new op} {
    variable source_command $new
}

proc ::runbom::say {message} {
    catch {puts stderr "runbom: tcl hook: $message; the program runs unobserved"}
}

# `source ?-encoding NAME? FILE`, as it starts (a sourced file that calls `exit` was run too); the
# pkgIndex.tcl files Tcl's package search reads are not the program's code.
proc ::runbom::on_source {command op} {
    variable errors
    if {[catch {
        set path [lindex $command end]
        if {[file tail $path] ne "pkgIndex.tcl"} {
            ::runbom::saw_file $path
        }
    }]} {
        incr errors
    }
}

# `load ?-global? ?-lazy? ?--? FILE ?PREFIX? ?INTERP?`
proc ::runbom::on_load {command code result op} {
    variable errors
    if {[catch {
        set words [lrange $command 1 end]
        while {[string match -* [lindex $words 0]]} {
            set flag [lindex $words 0]
            set words [lrange $words 1 end]
            if {$flag eq "--"} {
                break
            }
        }
        set path [lindex $words 0]
        if {$code == 0 && $path ne {}} {
            ::runbom::saw_file $path
        }
    }]} {
        incr errors
    }
}

proc ::runbom::saw_file {path} {
    variable files
    set path [file normalize $path]
    if {[dict exists $files $path]} {
        return
    }
    dict set files $path {}
    ::runbom::changed
}

# Written at once when the last write is flush_ms old, else flush_ms after it.
proc ::runbom::changed {} {
    variable dirty 1
    variable last_write
    variable pending
    variable flush_ms
    if {[clock milliseconds] - $last_write >= $flush_ms} {
        ::runbom::flush
    } elseif {$pending eq {}} {
        set pending [after $flush_ms ::runbom::flush_later]
    }
}

proc ::runbom::flush_later {} {
    variable pending {}
    ::runbom::flush
}

# Also run by tclsh itself when the script ends (`exit 0`), and by wish when its window closes.
proc ::runbom::on_exit {args} {
    variable exited 1
    variable pending
    variable errors
    if {[catch {
        if {$pending ne {}} {
            after cancel $pending
            set pending {}
        }
        ::runbom::flush
    }]} {
        incr errors
    }
}

proc ::runbom::flush {} {
    variable observed
    variable dirty
    variable exited
    variable last_write
    if {!$observed || (!$dirty && !$exited)} {
        return
    }
    if {[catch {::runbom::write} message]} {
        ::runbom::stop
        ::runbom::say "cannot write its observation: $message"
        return
    }
    set dirty 0
    set last_write [clock milliseconds]
}

proc ::runbom::json {text} {
    variable escapes
    if {![info exists escapes]} {
        set escapes [list \\ \\\\ \" \\\" \n \\n \r \\r \t \\t]
        for {set c 0} {$c < 32} {incr c} {
            if {$c ni {9 10 13}} {
                lappend escapes [format %c $c] [format \\u%04x $c]
            }
        }
    }
    if {![regexp {[\x00-\x1f\\"]} $text]} {
        return "\"$text\""
    }
    return "\"[string map $escapes $text]\""
}

proc ::runbom::parent_pid {} {
    if {[catch {
        set channel [open /proc/self/stat r]
        set stat [read $channel]
        close $channel
        set ppid [lindex [string range $stat [expr {[string last ) $stat] + 2}] end] 1]
    }] || ![string is integer -strict $ppid]} {
        return 0
    }
    return $ppid
}

proc ::runbom::write {} {
    variable dir
    variable file
    variable started
    variable exited
    variable errors
    variable files
    set argv [list [::runbom::json $::argv0]]
    foreach arg $::argv {
        lappend argv [::runbom::json $arg]
    }
    set loaded {}
    dict for {path name} $files {
        lappend loaded "\{\"name\": [::runbom::json $name], \"path\": [::runbom::json $path]\}"
    }
    set provided {}
    foreach name [package names] {
        # `package provide NAME` is the version provided, or empty: no error to catch.
        set version [package provide $name]
        if {$version eq {}} {
            continue
        }
        lappend provided "\{\"name\": [::runbom::json $name], \"version\": [::runbom::json $version]\}"
    }
    set search {}
    foreach path $::auto_path {
        lappend search [::runbom::json $path]
    }
    set text "\{\"pid\": [pid], \"ppid\": [::runbom::parent_pid],\
        \"argv\": \[[join $argv {, }]\],\
        \"executable\": [::runbom::json [info nameofexecutable]],\
        \"version\": [::runbom::json [info patchlevel]],\
        \"started\": [expr {$started / 1000.0}],\
        \"exited\": [expr {$exited ? "true" : "false"}],\
        \"files\": \[[join $loaded {, }]\],\
        \"packages\": \[[join $provided {, }]\],\
        \"search_path\": \[[join $search {, }]\],\
        \"errors\": $errors\}\n"
    set temporary [file join $dir .tcl-[pid].json.tmp]
    set channel [open $temporary w]
    fconfigure $channel -encoding utf-8 -translation lf
    puts -nonewline $channel $text
    close $channel
    file rename -force -- $temporary $file
}

# What tclsh prints for an error of its startup script: the error's stack up to the script's
# own `(file "app.tcl" line N)`, without the frames of this hook.
# A script that could not be read at all has only the message.
proc ::runbom::error_info {message options} {
    variable script
    set info [dict get $options -errorinfo]
    set mark "\n    (file \"$script\" line "
    set at [string last $mark $info]
    if {$at < 0} {
        return $message
    }
    set end [string first ) $info [expr {$at + [string length $mark]}]]
    if {$end < 0} {
        return $message
    }
    return [string range $info 0 $end]
}

::runbom::parse_arguments
if {[catch ::runbom::start message]} {
    ::runbom::stop
    ::runbom::say $message
}
info script {}
if {$::runbom::encoding ne {}} {
    set ::runbom::code [catch {source -encoding $::runbom::encoding $::runbom::script} \
        ::runbom::result ::runbom::options]
} else {
    set ::runbom::code [catch {source $::runbom::script} ::runbom::result ::runbom::options]
}
if {$::runbom::code == 1} {
    if {[info commands ::tk] ne {}} {
        # wish: Tk_Main shows the error, then leaves without running `exit`.
        catch {puts stderr "Error in startup script: [::runbom::error_info $::runbom::result $::runbom::options]"}
        ::runbom::on_exit
        exit 1
    }
    catch {puts stderr [::runbom::error_info $::runbom::result $::runbom::options]}
    exit 1
}
unset ::runbom::code ::runbom::result ::runbom::options
