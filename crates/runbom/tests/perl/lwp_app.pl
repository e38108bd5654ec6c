#!/usr/bin/perl
# An LWP script: fetches a file: URL with LWP::UserAgent and parses it with HTML::TreeBuilder,
# then writes its own %INC (the test's oracle) at END to the file $ORACLE names.
use strict;
use warnings;
use LWP::UserAgent;
use HTML::TreeBuilder;
use URI::file;

my $page = shift @ARGV or die "usage: lwp_app.pl PAGE\n";
my $ua = LWP::UserAgent->new;
my $res = $ua->get(URI::file->new_abs($page));
die $res->status_line, "\n" unless $res->is_success;
my $tree = HTML::TreeBuilder->new_from_content($res->decoded_content);
print $tree->look_down(_tag => 'title')->as_text, "\n";

END {
    if (my $oracle = $ENV{ORACLE}) {
        open my $fh, '>', $oracle or die "cannot write $oracle: $!";
        print {$fh} "$_\t$INC{$_}\n" for grep { $_ ne 'Runbom/Hook.pm' } sort keys %INC;
        close $fh;
    }
}
