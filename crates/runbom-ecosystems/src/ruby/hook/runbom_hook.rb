# runbom's Ruby hook, loaded by `RUBYOPT=-r<dir>/runbom_hook.rb` under `runbom run` (or from a
# unit's environment after `runbom hook install --ruby`). It records what the process loaded:
# `$LOADED_FEATURES`, `Gem.loaded_specs` and `$LOAD_PATH`, into `ruby-<pid>.json` in
# `RUNBOM_SESSION_DIR`, each time written whole to a temporary file and renamed into place:
#
# - on change: a `script_compiled` TracePoint (it fires only when Ruby compiles a file or an
#   eval, so it costs nothing in between) writes when something new was loaded, at most once a
#   second (`RUNBOM_FLUSH_SECONDS`), the first time a second after start: a program that is done
#   sooner writes once, at exit;
# - in a program that starts threads of its own (a server), a thread of the hook's looks every
#   few seconds, so that a quiet server's last loads are not held back until exit; a program
#   with no threads gets none (an extra sleeping thread would hide Ruby's deadlock detection);
# - at exit (`at_exit`, registered first so that it runs after the program's own handlers).
#
# With `RUNBOM_ENFORCE_TABLE` (see docs/enforce.md) it also enforces, with `runbom_enforce.rb`
# from its own directory (compiled only then): every Ruby file about to run, and every native
# extension about to be loaded, is held against the table, and a refused one raises `LoadError`
# from `require` (monitor mode: records "would refuse" and lets it run).
#
# It requires nothing (not even `json`: loading a gem here would activate it in the program) and
# defines one module (the enforcing half adds to it). Any failure says one line on stderr and the
# hook stops; the program runs as it would bare, with its own output and exit status. Works with
# `--enable-frozen-string-literal` (no literal is ever mutated).

module RunbomHook
  ESCAPES = { '"' => '\\"', '\\' => '\\\\', "\n" => '\\n', "\r" => '\\r', "\t" => '\\t' }.freeze
  # What a JSON string cannot hold as it is.
  UNSAFE = /["\\\x00-\x1f]/.freeze
  HOOK_FILE = File.expand_path(__FILE__).freeze
  # Seconds between two looks of the hook's thread.
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
  # The first write on change waits @debounce seconds from here, as if the hook had just written.
  @written_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  @lock = Mutex.new
  # Least seconds between two writes on change.
  @debounce = begin
    [Float(ENV.fetch('RUNBOM_FLUSH_SECONDS', '1')), 1.0].max
  rescue ArgumentError
    1.0
  end

  # Enforcement, with a table (`RUNBOM_ENFORCE_TABLE`): the state and refusals the observation
  # carries, and the fail policy. The rest (the table, the verdicts, the TracePoint) is in
  # `runbom_enforce.rb` beside this file, compiled only when there is a table.
  module Enforce
    EXIT_CLOSED = 78 # EX_CONFIG: the program did not start because the table could not be loaded
    FILE = File.join(File.dirname(HOOK_FILE), 'runbom_enforce.rb').freeze

    # The table could not be used: the reason, for the fail policy.
    class TableError < StandardError; end

    @state = nil
    @refusals = []

    class << self
      attr_reader :state, :refusals

      # Loads the enforcing half and the table named by `RUNBOM_ENFORCE_TABLE` and applies the
      # fail policy.
      def start(main)
        path = ENV['RUNBOM_ENFORCE_TABLE']
        return if path.nil? || path.empty?

        fail_policy = ENV['RUNBOM_ENFORCE_FAIL'] == 'closed' ? 'closed' : 'open'
        if ENV['RUNBOM_ENFORCE'] == 'off'
          @state = { mode: 'monitor', state: 'off', message: 'turned off for this run by RUNBOM_ENFORCE=off' }
          $stderr.write("runbom: enforcement is off for this run (RUNBOM_ENFORCE=off)\n")
          return
        end
        begin
          begin
            Kernel.load(FILE)
          rescue ScriptError => e
            raise TableError, "cannot load `#{FILE}`: #{e.class}: #{e.message}"
          end
          table = read_table(path, main)
        rescue Exception => e # rubocop:disable Lint/RescueException
          reason = e.is_a?(TableError) ? e.message : "cannot load `#{path}`: #{e.class}: #{e.message}"
          @state = { mode: fail_policy == 'closed' ? 'enforce' : 'monitor', state: 'failed', message: reason }
          if fail_policy == 'closed'
            $stderr.write("runbom: error: the program was not started: #{reason} (fail = \"closed\")\n")
            RunbomHook.record(true)
            exit!(EXIT_CLOSED)
          end
          $stderr.write("runbom: warning: enforcement is off: #{reason} (fail = \"open\")\n")
          return
        end
        @state = { mode: table.mode, state: 'active', message: nil }
        enable(table)
      end
    end
  end

  class << self
    # Writes the observation when what was loaded changed since the last write; at exit always.
    # `soon` writes are skipped within @debounce seconds of the last.
    def record(exited, soon: false)
      return if @failed || (@exited && !exited)

      now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      return if soon && @written_at && now - @written_at < @debounce

      forked if Process.pid != @pid
      return unless @lock.try_lock

      begin
        @exited = true if exited
        features = $LOADED_FEATURES
        specs = defined?(Gem) && Gem.respond_to?(:loaded_specs) ? Gem.loaded_specs : {}
        state = [features.size, specs.size, $LOAD_PATH.size, Enforce.refusals.size]
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
        name = str(feature)
        out << '{"name":' << name << ',"path":' << (feature.start_with?('/') ? name : 'null') << '}'
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
      enforcement(out)
      out << ',"errors":' << @errors.to_s << "}\n"
      # A session directory removed by the last `runbom hook flush` is made again (one level).
      Dir.mkdir(@dir, 0o755) unless File.directory?(@dir)
      path = File.join(@dir, "ruby-#{@pid}.json")
      temporary = File.join(@dir, ".ruby-#{@pid}.json.tmp")
      File.open(temporary, 'wb', 0o644) { |f| f.write(out) }
      File.rename(temporary, path)
    end

    # The enforcement state and refusals, when there is a table.
    def enforcement(out)
      state = Enforce.state
      return unless state

      out << ',"enforcement":{"mode":' << str(state[:mode]) << ',"state":' << str(state[:state])
      out << ',"message":' << (state[:message] ? str(state[:message]) : 'null') << '}'
      out << ',"refusals":[' << Enforce.refusals.map { |r| refusal(r) }.join(',') << ']'
    end

    def refusal(r)
      '{"at":' + r[:at].to_s + ',"module":' + str(r[:module]) + ',"file":' + str(r[:file]) +
        ',"distribution":' + (r[:distribution] ? str(r[:distribution]) : 'null') +
        ',"version":' + (r[:version] ? str(r[:version]) : 'null') + ',"rule":' + str(r[:rule]) +
        ',"why":' + str(r[:why]) + ',"config_line":' + r[:config_line].to_s +
        ',"importer":' + (r[:importer] ? str(r[:importer]) : 'null') +
        ',"enforced":' + (r[:enforced] ? 'true' : 'false') + '}'
    end

    # A refusal: written at once and said (`n<pid>`), so `runbom run` reports it on its next tick.
    def news
      return if @dir.nil? || @dir.empty?

      record(false)
      File.open(File.join(@dir, "n#{@pid}"), 'w', 0o644, &:close)
    rescue Exception # rubocop:disable Lint/RescueException
      @errors += 1
    end

    def count_error
      @errors += 1
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
      return "\"#{text}\"" unless text.match?(UNSAFE)

      '"' + text.gsub(UNSAFE) { |c| ESCAPES[c] || format('\\u%04x', c.ord) } + '"'
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
    Enforce.start(@main)
    start unless @dir.nil? || @dir.empty?
  rescue Exception => e # rubocop:disable Lint/RescueException
    fail!(e)
  end
end
