package dev.flowtracker.ingest.cli;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * Entry point of {@code bin/tracker}: dispatches to a subcommand. Exit codes: 0 ok, 1 input error, 2 usage.
 */
public final class TrackerCli
{
    static final String USAGE = """
        usage: tracker <command> [options]

        commands:
          analyze   read pcap/pcapng files (optionally gzip-compressed) and write one JSON flow record per
                    TCP connection
          run       replay pcap/pcapng files through the streaming pipeline (ring + shard workers)
          flows     list the connections in a state directory's latest checkpoints
          help      show this help (also: tracker <command> --help)

        exit codes: 0 ok, 1 input error (unreadable, truncated or corrupt file), 2 usage error
        """;

    private TrackerCli()
    {
    }

    public static void main(final String[] args)
    {
        System.exit(run(args, System.out, System.err));
    }

    static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        if (args.length == 0)
        {
            err.print(USAGE);
            return ExitCodes.USAGE;
        }
        final String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0])
        {
            case "analyze":
                return new AnalyzeCommand(out, err).run(rest);
            case "run":
                return new RunCommand(out, err).run(rest);
            case "flows":
                return new FlowsCommand(out, err).run(rest);
            case "help", "-h", "--help":
                out.print(USAGE);
                return ExitCodes.OK;
            default:
                err.println("tracker: unknown command '" + args[0] + "' (try 'tracker help')");
                return ExitCodes.USAGE;
        }
    }
}
