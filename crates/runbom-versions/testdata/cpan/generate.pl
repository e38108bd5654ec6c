#!/usr/bin/perl
# Generates version-pm.tsv with Perl's version.pm (0.9929, Perl 5.36), run once:
#     perl generate.pl > version-pm.tsv
# Rows: "V<TAB>input<TAB>normal-or-ERR<TAB>is_alpha" for each input, then
#       "C<TAB>a<TAB>b<TAB>cmp" (version->parse(a) <=> version->parse(b)) for every valid pair.
use strict;
use warnings;
use version;

my @inputs = qw(
  0 0.0 0.001 0.01 0.1 0.9 0.99 0.999 1 1.0 1.00 1.000 1.000000 1.000001 1.0001 1.001 1.001001
  1.002003 1.002_003 1.01 1.1 1.10 1.100 1.2 1.2_3 1.23 1.9 1.99 1.999 2 2.0 2.000001 10 10.0
  v0 v0.0.1 v1 v1.0 v1.0.0 v1.0.0.0 v1.0.1 v1.1 v1.1.0 v1.2 v1.2.3 v1.2.3.4 v1.2_3 v1.23
  v1.100 v1.200.0 v2 1.2.3 1.2.3.4 1.2.3_4 0.1.2 1.0.0 2.0.0 1. .1 01.2 v01.02
  1.002003_01 5.036000 5.36.0 v5.36 1_2 1.2a 1..2 v1..2 1.2.3_4_5 1.2_3_4 _1 v 1.2._3 1.2.3.
);
my %valid;
for my $in (@inputs) {
  my $v = eval { version->parse($in) };
  if (defined $v) {
    $valid{$in} = $v;
    printf "V\t%s\t%s\t%d\n", $in, $v->normal, $v->is_alpha ? 1 : 0;
  } else {
    printf "V\t%s\tERR\t0\n", $in;
  }
}
my @ok = grep { exists $valid{$_} } @inputs;
for my $a (@ok) {
  for my $b (@ok) {
    printf "C\t%s\t%s\t%d\n", $a, $b, $valid{$a} <=> $valid{$b};
  }
}
