# -*- encoding: utf-8 -*-
# stub: broken 0.1.0 ruby lib
Gem::Specification.new do |s|
  s.name = "broken".freeze
  s.version = "0.1.0"
  s.licenses = [License.detect]
  s.files = ["lib/broken.rb".freeze,
  s.summary = "never read"
