package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.tcp.FlowStateCodec;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.output.FlowRecordFormat;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code tracker flows --state-dir DIR}: the connections in the latest checkpoints of a state directory, one JSON
 * flow record each ({@code end_reason} null: still open), read beside a running daemon without disturbing it.
 */
final class FlowsCommand
{
    static final String HELP = """
        usage: tracker flows --state-dir DIR [--limit N] [-q]

        Lists the connections held in the latest checkpoints of DIR (written by 'tracker run --state-dir'),
        one JSON flow record per connection on standard output, end_reason null for those still open. Safe
        to run while the daemon is writing checkpoints: it reads committed checkpoints only.

        options:
              --state-dir DIR the daemon's state directory
              --limit N       stop after N records
          -q, --quiet         no summary on stderr
          -h, --help          show this help

        exit codes: 0 ok; 1 unreadable or corrupt checkpoint (named); 2 usage error
        """;

    private final PrintStream out;
    private final PrintStream err;

    FlowsCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    int run(final String[] args)
    {
        Path stateDir = null;
        long limit = Long.MAX_VALUE;
        boolean quiet = false;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "-h", "--help" ->
                {
                    out.print(HELP);
                    return ExitCodes.OK;
                }
                case "-q", "--quiet" -> quiet = true;
                case "--state-dir", "--limit" ->
                {
                    if (i + 1 >= args.length)
                    {
                        return usage(args[i] + " needs a value");
                    }
                    if (args[i].equals("--state-dir"))
                    {
                        stateDir = Path.of(args[++i]);
                    }
                    else
                    {
                        try
                        {
                            limit = Long.parseLong(args[++i]);
                        }
                        catch (final NumberFormatException e)
                        {
                            return usage("--limit needs a number, got '" + args[i] + "'");
                        }
                        if (limit < 1)
                        {
                            return usage("--limit must be at least 1, was " + limit);
                        }
                    }
                }
                default ->
                {
                    return usage("unknown option '" + args[i] + "'");
                }
            }
        }
        if (stateDir == null)
        {
            return usage("give --state-dir DIR");
        }
        final FlowRecordFormat format = new FlowRecordFormat();
        final TcpConnection connection = new TcpConnection();
        final long[] listed = new long[1];
        final long max = limit;
        try (CheckpointStore store = CheckpointStore.openForReading(stateDir))
        {
            final List<CheckpointInfo> shards = store.list();
            for (final CheckpointInfo info : shards)
            {
                if (listed[0] >= max)
                {
                    break;
                }
                store.read(info.shard(), (key, state) ->
                {
                    if (listed[0] < max)
                    {
                        FlowStateCodec.decode(state, connection);
                        out.append(format.format(connection)).append('\n');
                        listed[0]++;
                    }
                });
            }
            out.flush();
            if (!quiet)
            {
                err.printf(Locale.ROOT, "tracker flows: %,d connections from %d shard checkpoint(s) in %s%n",
                    listed[0], shards.size(), stateDir);
            }
            return ExitCodes.OK;
        }
        catch (final IOException | IllegalArgumentException e)
        {
            err.println("tracker flows: error: " + AnalyzeCommand.describe(e));
            return ExitCodes.INPUT_ERROR;
        }
    }

    private int usage(final String problem)
    {
        err.println("tracker flows: " + problem + " (try 'tracker flows --help')");
        return ExitCodes.USAGE;
    }
}
