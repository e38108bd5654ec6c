# runbom's Ruby hook, loaded by `RUBYOPT=-r<dir>/runbom_hook.rb` under `runbom run` (or from a
# unit's environment after `runbom hook install --ruby`). It records what the process loaded —
# `$LOADED_FEATURES`, `Gem.loaded_specs` and `$LOAD_PATH` — into `ruby-<pid>.json` in
# `RUNBOM_SESSION_DIR`, each time written whole to a temporary file and renamed into place:
#
# - at start and on change: a `script_compiled` TracePoint (it fires only when Ruby compiles a
#   file or an eval, so it costs nothing in between) writes when something new was loaded, at
#   most once a second;
# - in a program that starts threads of its own (a server), a thread of the hook's looks every
#   few seconds, so that a quiet server's last loads are not held back until exit; a program
#   with no threads gets none (an extra sleeping thread would hide Ruby's deadlock detection);
# - at exit (`at_exit`, registered first so that it runs after the program's own handlers).
#
# It requires nothing (not even `json`: loading a gem here would activate it in the program) and
# defines one module. Any failure says one line on stderr and the hook stops; the program runs
# as it would bare, with its own output and exit status. Works with
# `--enable-frozen-string-literal` (no literal is ever mutated).

module RunbomHook
  ESCAPES = { '"' => '\\"', '\\' => '\\\\', "\n" => '\\n', "\r" => '\\r', "\t" => '\\t' }.freeze
  HOOK_FILE = File.expand_path(__FILE__).freeze
  # Seconds between two writes on change, and between two looks of the hook's thread.
  DEBOUNCE = 1.0
  WATCH = 3

  @dir = ENV['RUNBOM_SESSION_DIR']
  # The program's own script, as `__main__` (the directory of first-party code), when it is one.
  @main = begin
    File.file?($PROGRAM_NAME) ? File.expand_path($PROGRAM_NAME) : nil
  rescue Exception # rubocop:disable Lint/RescueException
    nil
  end
  @started = Process.clock_gettime(Process::CLOCK_REALTIME)
  @pid = Process.pid
  @errors = 0
  @failed = false
  @exited = false
  @last = nil
  @written_at = nil
  @lock = Mutex.new

  class << self
    # Writes the observation when what was loaded changed since the last write; at exit always.
    # `soon` writes are skipped within DEBOUNCE of the last.
    def record(exited, soon: false)
      return if @failed || (@exited && !exited)

      forked if Process.pid != @pid
      now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      return if soon && @written_at && now - @written_at < DEBOUNCE
      return unless @lock.try_lock

      begin
        @exited = true if exited
        features = $LOADED_FEATURES
        specs = defined?(Gem) && Gem.respond_to?(:loaded_specs) ? Gem.loaded_specs : {}
        state = [features.size, specs.size, $LOAD_PATH.size]
        unless !exited && state == @last
          write(features, specs, exited)
          @last = state
          @written_at = now
        end
      ensure
        @lock.unlock
      end
    rescue ThreadError
      nil # called from a signal trap: the next change or the exit writes
    rescue Exception => e # rubocop:disable Lint/RescueException
      fail!(e)
    end

    # A forked child is its own process, with its own file.
    def forked
      @pid = Process.pid
      @started = Process.clock_gettime(Process::CLOCK_REALTIME)
      @last = nil
      @written_at = nil
      @lock = Mutex.new
    end

    def fail!(error)
      return if @failed

      @failed = true
      begin
        @tracer&.disable
        message = error.message.to_s.lines.first.to_s.chomp
        $stderr.write("runbom: ruby hook disabled: #{error.class}: #{message}\n")
      rescue Exception # rubocop:disable Lint/RescueException
        nil
      end
    end

    def write(features, specs, exited)
      out = String.new(capacity: 65_536, encoding: Encoding::UTF_8)
      out << '{"pid":' << @pid.to_s << ',"ppid":' << Process.ppid.to_s
      out << ',"argv":' << list([$PROGRAM_NAME] + ARGV)
      out << ',"executable":' << str(executable)
      out << ',"version":' << str(RUBY_VERSION)
      out << ',"started":' << @started.to_s
      out << ',"exited":' << (exited ? 'true' : 'false')
      out << ',"files":['
      first = true
      if @main
        out << '{"name":"__main__","path":' << str(@main) << '}'
        first = false
      end
      features.each do |feature|
        feature = feature.to_s
        next if feature == HOOK_FILE

        out << ',' unless first
        first = false
        out << '{"name":' << str(feature) << ',"path":'
        out << (feature.start_with?('/') ? str(feature) : 'null') << '}'
      end
      out << '],"packages":['
      first = true
      specs.each_value do |spec|
        out << ',' unless first
        first = false
        out << '{"name":' << str(spec.name) << ',"version":' << str(spec.version)
        out << ',"location":' << str(spec.full_gem_path) << '}'
      end
      out << '],"search_path":' << list($LOAD_PATH)
      out << ',"errors":' << @errors.to_s << "}\n"
      # A session directory removed by the last `runbom hook flush` is made again (one level).
      Dir.mkdir(@dir, 0o755) unless File.directory?(@dir)
      path = File.join(@dir, "ruby-#{@pid}.json")
      temporary = File.join(@dir, ".ruby-#{@pid}.json.tmp")
      File.open(temporary, 'wb', 0o644) { |f| f.write(out) }
      File.rename(temporary, path)
    end

    def executable
      return RbConfig.ruby if defined?(RbConfig) && RbConfig.respond_to?(:ruby)

      ''
    rescue Exception # rubocop:disable Lint/RescueException
      @errors += 1
      ''
    end

    def list(values)
      '[' + values.map { |v| str(v) }.join(',') + ']'
    end

    def str(value)
      text = value.to_s
      unless text.encoding == Encoding::UTF_8 && text.valid_encoding?
        text = text.dup.force_encoding(Encoding::UTF_8).scrub('?')
      end
      '"' + text.gsub(/["\\\x00-\x1f]/) { |c| ESCAPES[c] || format('\\u%04x', c.ord) } + '"'
    end

    def start
      at_exit { RunbomHook.record(true) }
      @tracer = TracePoint.new(:script_compiled) { RunbomHook.record(false, soon: true) }
      @tracer.enable
      @threads = TracePoint.new(:thread_begin) do
        @threads.disable
        RunbomHook.watch
      end
      @threads.enable
    end

    # The hook's own thread, once the program has one of its own.
    def watch
      watcher = Thread.new do
        loop do
          sleep(WATCH)
          RunbomHook.record(false)
        end
      end
      watcher.report_on_exception = false
      watcher.name = 'runbom-hook'
    rescue Exception => e # rubocop:disable Lint/RescueException
      fail!(e)
    end
  end

  begin
    start unless @dir.nil? || @dir.empty?
  rescue Exception => e # rubocop:disable Lint/RescueException
    fail!(e)
  end
end
