# bench/hook-overhead's Ruby program: a Sinatra app and a Rack app served by WEBrick, from
# Debian's gems, loaded and answering one request each in process; prints how many features it
# loaded.
require 'sinatra/base'
require 'rack'
require 'rack/mock'
require 'webrick'
require 'net/http'
require 'json'
require 'set'
require 'erb'

class Bench < Sinatra::Base
  get('/') { JSON.generate(ok: Set[1, 2].size) }
end

Rack::MockRequest.new(Bench).get('/').body
puts $LOADED_FEATURES.size
