# The oracle of RubyGems advisory matching, written for runbom's tests: for every gem of a
# ruby-advisory-db tree (ARGV[0]), every version its advisories name and the versions at their
# edges (one segment either side, the `~>` upper bound, a trailing zero, prereleases of each),
# and whether each advisory applies, by bundler-audit's rule in RubyGems' own classes: a version
# is vulnerable unless one of the `patched_versions` or `unaffected_versions` requirements holds
# for it (`Gem::Requirement#satisfied_by?`). Prints `version <gem> <version>` for every pair, then
# `vulnerable <gem> <version> <advisory file stem>`.
require 'yaml'
require 'date'

# Versions near `version`: itself, the last segment one up and one down, the `~>` bound
# (`bump`), and prereleases of each.
def edges(version)
  segments = version.release.segments
  near = [version, version.release, version.bump, Gem::Version.new('0.0.1')]
  near << Gem::Version.new((segments[0...-1] + [segments[-1] + 1]).join('.'))
  near << Gem::Version.new((segments[0...-1] + [segments[-1] - 1]).join('.')) if segments[-1] > 0
  near << Gem::Version.new("#{version.release}.0")
  near.flat_map { |v| [v, Gem::Version.new("#{v.release}.a"), Gem::Version.new("#{v.release}.rc1"), Gem::Version.new("#{v.release}.beta.2")] }
end

advisories = Dir[File.join(ARGV.fetch(0), 'gems', '*', '*.yml')].sort.map do |file|
  advisory = YAML.safe_load(File.read(file), permitted_classes: [Date])
  safe = (Array(advisory['patched_versions']) + Array(advisory['unaffected_versions']))
         .map { |r| Gem::Requirement.new(*r.split(/,\s*/)) }
  [advisory['gem'], File.basename(file, '.yml'), safe]
end
advisories.group_by(&:first).each do |gem, of_gem|
  # `1.0` too, for a gem whose advisories name no version (nothing patched: all affected).
  named = of_gem.flat_map { |_, _, safe| safe.flat_map { |r| r.requirements.map(&:last) } }
  named << Gem::Version.new('1.0')
  versions = named.flat_map { |v| edges(v) }.uniq.sort
  versions.each { |v| puts "version #{gem} #{v}" }
  of_gem.each do |_, id, safe|
    versions.each do |v|
      puts "vulnerable #{gem} #{v} #{id}" unless safe.any? { |r| r.satisfied_by?(v) }
    end
  end
end
