# Hand-made for runbom's tests, in the layout of CPAN::Audit's generated database
# (util/generate, Data::Dumper): one good record, one whose range `version.pm` cannot parse.
package CPAN::Audit::DB;

use strict;
use warnings;

our $VERSION = '20230309.004';

sub db {
    {
          'dists' => {
                       'Foo-Bar' => {
                                      'advisories' => [
                                                        {
                                                          'affected_versions' => '<1.5',
                                                          'cves' => [
                                                                      'CVE-2020-0001'
                                                                    ],
                                                          'description' => 'A good record.
',
                                                          'distribution' => 'Foo-Bar',
                                                          'fixed_versions' => '>=1.5',
                                                          'id' => 'CPANSA-Foo-Bar-2020-01',
                                                          'references' => [],
                                                          'reported' => '2020-01-01',
                                                          'severity' => 'high'
                                                        },
                                                        {
                                                          'affected_versions' => '<1.x',
                                                          'cves' => [],
                                                          'description' => 'A range that is no version.
',
                                                          'distribution' => 'Foo-Bar',
                                                          'fixed_versions' => '>=2.0',
                                                          'id' => 'CPANSA-Foo-Bar-2020-02',
                                                          'references' => [],
                                                          'reported' => '2020-02-01',
                                                          'severity' => undef
                                                        }
                                                      ],
                                      'versions' => [
                                                      {
                                                        'version' => '1.0'
                                                      }
                                                    ]
                                    }
                     }
    };
}

1;
