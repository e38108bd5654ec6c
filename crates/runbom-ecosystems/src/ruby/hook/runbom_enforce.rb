# runbom's Ruby hook, its enforcing half: loaded by `runbom_hook.rb` (from the same directory,
# with `Kernel.load`, so it is not in `$LOADED_FEATURES`) only when `RUNBOM_ENFORCE_TABLE` names
# a table (see docs/enforce.md). It reads the table (Ruby's variant of `runbom-enforce/1`), and
# holds every Ruby file about to run against it in a `script_compiled` TracePoint, enabled before
# the program's first line, raising `LoadError` from `require` for a refused one (monitor mode:
# records "would refuse" and lets it run); a native extension (`.so`), which compiles no Ruby,
# is judged by a `require` prepended to Kernel. The hook keeps the state, the refusals and the
# fail policy; a failure here is the hook's (one line on stderr, the program runs as bare).

module RunbomHook
  # Enforcement: the table, its verdicts, and the refusals of this process.
  module Enforce
    # A parsed table: mode, config, rules, first-party, stdlib and gem directories, gems, files.
    Table = Struct.new(:mode, :config, :rules, :first_party, :stdlib, :gemdirs, :dists, :files)

    @table = nil
    @refused = {}

    class << self
      # Starts enforcing `table` (read by read_table): the TracePoint and `Native`.
      def enable(table)
        @table = table
        @tracer = TracePoint.new(:script_compiled) { |tp| Enforce.compiled(tp) }
        @tracer.enable
        Kernel.prepend(Native)
      end

      # A native extension about to be required, held against the table (compiled Ruby is the
      # TracePoint's): the `.so` the feature resolves to, once RubyGems has activated its gem.
      def native(feature)
        type, file = $LOAD_PATH.resolve_feature_path(feature.to_s)
        return unless type == :so && file.is_a?(String) && file.start_with?('/')
        return if $LOADED_FEATURES.include?(file)

        verdict = judge(@table, file)
        refuse(file, verdict) if verdict
      rescue LoadError
        raise if $!.message.start_with?('runbom: ')
      rescue Exception # rubocop:disable Lint/RescueException
        RunbomHook.count_error
      end

      def read_table(path, main)
        stat = File.stat(path)
        if stat.uid != Process.uid && stat.uid != 0
          raise TableError, "`#{path}` belongs to another user (uid #{stat.uid})"
        end
        raise TableError, "`#{path}` is writable by group or others" if stat.mode & 0o022 != 0

        lines = File.binread(path).force_encoding(Encoding::UTF_8).split("\n")
        raise TableError, "`#{path}` is not a runbom-enforce/1 table" unless lines[0] == 'runbom-enforce/1'

        last = lines.pop.to_s.split("\t")
        unless last[0] == 'end' && last[1] == lines.size.to_s
          raise TableError, "`#{path}` is truncated (no `end` line counting #{lines.size} lines)"
        end

        table = Table.new('enforce', 'runbom.toml', {}, [], [], [], [], {})
        lines.each_with_index { |line, i| parse_line(table, path, line, i + 1) }
        table.first_party = [File.dirname(main || File.join(Dir.pwd, '-')) + '/'] if table.first_party.empty?
        table.gemdirs.sort_by! { |dir, _| -dir.size }
        table
      end

      def parse_line(table, path, line, number)
        fields = line.split("\t", -1)
        case fields[0]
        when 'runbom-enforce/1', 'expected', 'fail' then nil
        when 'interpreter' then check_interpreter(path, fields)
        when 'mode' then table.mode = fields[1] == 'monitor' ? 'monitor' : 'enforce'
        when 'config' then table.config = fields[1]
        when 'rule' then table.rules[fields[1]] = [fields[2] == '1', fields[3]]
        when 'first-party' then table.first_party << fields[1].chomp('/') + '/'
        when 'stdlib' then table.stdlib << fields[1]
        when 'gemdir' then table.gemdirs << [fields[2], Integer(fields[1])]
        when 'dist'
          raise TableError, "`#{path}` line #{number}: a `dist` line needs 8 fields" unless fields.size == 8

          table.dists[Integer(fields[1])] = fields[2..7]
        when 'f'
          raise TableError, "`#{path}` line #{number}: an `f` line needs 7 fields" unless fields.size == 7

          table.files[fields[1]] = fields[2..5]
        else
          raise TableError, "`#{path}` line #{number}: unknown line `#{fields[0]}`"
        end
      rescue ArgumentError, TypeError
        raise TableError, "`#{path}` line #{number}: malformed `#{fields[0]}` line"
      end

      def check_interpreter(path, fields)
        prefix = defined?(RbConfig) ? RbConfig::CONFIG['prefix'] : nil
        return if fields[2] == RUBY_VERSION && (prefix.nil? || fields[3] == prefix)

        raise TableError, "`#{path}` is for the interpreter #{fields[1]} (Ruby #{fields[2]}, prefix #{fields[3]}), " \
                          "not this one (Ruby #{RUBY_VERSION}, prefix #{prefix})"
      end

      # The TracePoint's call: a file about to run, held against the table.
      def compiled(tracepoint)
        return if tracepoint.eval_script

        file = tracepoint.instruction_sequence.path
        return unless file.start_with?('/') && file.end_with?('.rb') && file != HOOK_FILE

        verdict = judge(@table, file)
        refuse(file, verdict) if verdict
      rescue LoadError
        raise
      rescue Exception # rubocop:disable Lint/RescueException
        RunbomHook.count_error
      end

      # nil to allow, else [rule, gem fields or nil, why, line].
      def judge(table, file)
        entry = table.files[file]
        index = entry ? Integer(entry[0]) : table.gemdirs.find { |dir, _| file.start_with?(dir) }&.last
        if index.nil?
          return nil if table.stdlib.any? { |d| file.start_with?(d) }
          return nil if table.first_party.any? { |d| file.start_with?(d) }

          on, line = table.rules.fetch('listed', [true, '0'])
          return on ? ['listed', nil, "owned by no installed gem, and not in Ruby's library or a first-party directory", line] : nil
        end
        dist = table.dists[index]
        return [dist[3], dist, dist[5], dist[4]] if dist[2] == 'refused'

        on, line = table.rules.fetch('integrity', [true, '0'])
        return nil unless on && entry && entry[1] != '-'

        stat = File.stat(file)
        mtime = stat.mtime.to_i * 1_000_000_000 + stat.mtime.nsec
        return nil if entry[1] == stat.size.to_s && entry[2] == mtime.to_s && entry[3] == stat.ino.to_s

        ['integrity', dist, 'it changed since the table was written (size, mtime or inode differ)', line]
      end

      def refuse(file, verdict)
        rule, dist, why, line = verdict
        enforced = @table.mode == 'enforce'
        name = feature(file)
        owner = dist ? "#{dist[0]} #{dist[1]}" : 'no gem'
        place = line == '0' ? 'on by default' : "#{@table.config}:#{line}"
        message = "runbom: #{enforced ? 'refused' : 'would refuse'} require of `#{name}` " \
                  "(#{owner}, #{file}): #{why} [rule `#{rule}`, #{place}]"
        unless @refused[file]
          @refused[file] = true
          @refusals << { at: Process.clock_gettime(Process::CLOCK_REALTIME), module: name, file: file,
                         distribution: dist&.at(0), version: dist&.at(1), rule: rule, why: why,
                         config_line: Integer(line), importer: importer, enforced: enforced }
          RunbomHook.news
        end
        raise LoadError, message if enforced
      end

      # The feature's name: its path below the longest `$LOAD_PATH` entry, without `.rb`/`.so`.
      def feature(file)
        dir = $LOAD_PATH.map(&:to_s).select { |d| file.start_with?(d.chomp('/') + '/') }.max_by(&:size)
        (dir ? file[(dir.chomp('/').size + 1)..] : file).delete_suffix('.rb').delete_suffix('.so')
      end

      # The file whose code asked: the first caller outside RubyGems and the hook.
      def importer
        location = caller_locations(3, 40)&.find do |l|
          path = l.absolute_path || l.path
          path && path != HOOK_FILE && path != FILE && !path.include?('/rubygems') && !path.start_with?('<internal:')
        end
        location && (location.absolute_path || location.path)
      end
    end
  end

  # Prepended to Kernel with a table: RubyGems' `require` calls `gem_original_require` after
  # activating the gem (plain `require` without RubyGems), so a native extension is judged with
  # its gem's directories on `$LOAD_PATH`, before it is loaded.
  module Native
    private

    if Kernel.private_method_defined?(:gem_original_require)
      def gem_original_require(path)
        Enforce.native(path)
        super
      end
    else
      def require(path)
        Enforce.native(path)
        super
      end
    end
  end

end
