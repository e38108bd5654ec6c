#!/usr/bin/perl
# A Mojolicious::Lite app that answers one request in-process through Mojo::UserAgent, and
# writes its own %INC (the test's oracle) at END to the file $ORACLE names.
use strict;
use warnings;
use Mojolicious::Lite -signatures;
use Mojo::UserAgent;

app->log->level('fatal');
get '/' => sub ($c) { $c->render(json => {hello => 'world'}) };

my $ua = Mojo::UserAgent->new;
$ua->server->app(app);
my $res = $ua->get('/')->result;
print $res->code, ' ', $res->body, "\n";

END {
    if (my $oracle = $ENV{ORACLE}) {
        open my $fh, '>', $oracle or die "cannot write $oracle: $!";
        print {$fh} "$_\t$INC{$_}\n" for grep { $_ ne 'Runbom/Hook.pm' } sort keys %INC;
        close $fh;
    }
}
