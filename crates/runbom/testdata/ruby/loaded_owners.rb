# The oracle of which gem owns each loaded file, written for runbom's tests and independent of
# it: a file in a gem's directory is that gem's (`full_gem_path`); one in Ruby's `vendor_ruby`
# is the gem whose gemspec the Debian package holding the file ships (`dpkg -S`, `dpkg -L`),
# `none` when that package ships none. Reads file names on stdin, prints `file<TAB>owner`.
require 'rbconfig'

files = $stdin.read.split("\n")
vendor = RbConfig::CONFIG.values_at('vendordir', 'vendorarchdir').compact.reject(&:empty?)
in_vendor, rest = files.partition { |f| vendor.any? { |d| f.start_with?("#{d}/") } }
specs = Gem::Specification.reject(&:default_gem?)
rest.each do |file|
  spec = specs.find { |s| file.start_with?("#{s.full_gem_path}/") }
  puts "#{file}\t#{spec.name} #{spec.version}" if spec
end
exit if in_vendor.empty?

gem_of = Hash.new do |cache, package|
  gemspec = IO.popen(['dpkg', '-L', package], &:read).split("\n").find do |path|
    path.match?(%r{/rubygems-integration/[^/]+/specifications/[^/]+\.gemspec\z})
  end
  spec = gemspec && Gem::Specification.load(gemspec)
  cache[package] = spec ? "#{spec.name} #{spec.version}" : 'none'
end
IO.popen(['dpkg', '-S', *in_vendor], err: File::NULL, &:read).each_line do |line|
  package, file = line.chomp.split(': ', 2)
  puts "#{file}\t#{gem_of[package.sub(/:.*/, '')]}"
end
