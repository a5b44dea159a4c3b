package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.flow.FlowStateCodec;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.output.FlowRecordFormat;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tracker flows --state-dir DIR}: the connections in the latest checkpoints of a state directory, one JSON
 * flow record each ({@code end_reason} null: still open), read beside a running daemon without disturbing it. Runs on
 * the calling thread.
 */
@Command(
    name = FlowsCommand.NAME,
    versionProvider = TrackerVersion.class,
    synopsisHeading = "usage: ",
    customSynopsis = "tracker flows --state-dir DIR [--limit N] [-q]",
    descriptionHeading = "%n",
    description = {
        "list the connections in a state directory's latest checkpoints",
        "",
        "Lists the connections held in the latest checkpoints of DIR (written by 'tracker run --state-dir'), one " +
            "JSON flow record per connection on standard output, end_reason null for those still open. Safe to run " +
            "while the daemon is writing checkpoints: it reads committed checkpoints only."},
    optionListHeading = "%noptions:%n",
    footer = {"", "exit codes: 0 ok; 1 unreadable or corrupt checkpoint (named); 2 usage error"})
final class FlowsCommand implements Callable<Integer>
{
    static final String NAME = "flows";

    @Option(names = "--state-dir", paramLabel = "DIR", order = HelpSections.GENERAL,
        description = "the daemon's state directory")
    Path stateDir;

    @Mixin
    CommonOptions common;

    private long limit = Long.MAX_VALUE;
    private final PrintStream out;
    private final PrintStream err;

    FlowsCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    /** The help's layout: the option list in sections. */
    static void layOut(final CommandLine commandLine)
    {
        HelpSections.install(commandLine, Map.of());
    }

    @Option(names = "--limit", paramLabel = "N", order = HelpSections.GENERAL + 10,
        description = "stop after N records")
    void limit(final String text)
    {
        limit = OptionValues.positive(text, "--limit", Long.MAX_VALUE, null);
    }

    /** Runs {@code tracker flows ARGS} with this command's streams. */
    int run(final String[] args)
    {
        final String[] command = new String[args.length + 1];
        command[0] = NAME;
        System.arraycopy(args, 0, command, 1, args.length);
        return TrackerCli.run(command, out, err);
    }

    @Override
    public Integer call()
    {
        if (stateDir == null)
        {
            throw new UsageException("give --state-dir DIR");
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
            if (!common.quiet)
            {
                err.printf(Locale.ROOT, "tracker flows: %,d connections from %d shard checkpoint(s) in %s%n",
                    listed[0], shards.size(), stateDir);
            }
            return ExitCodes.OK;
        }
        catch (final IOException | IllegalArgumentException e)
        {
            err.println("tracker flows: error: " + Errors.describe(e));
            return ExitCodes.INPUT_ERROR;
        }
    }
}
