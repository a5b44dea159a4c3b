package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.output.FlowRecords;
import dev.flowtracker.ingest.runtime.TrackerRuntime;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;

import picocli.CommandLine.Mixin;

/**
 * What the commands that track connections, {@code analyze} and {@code run}, share as commands: the Kafka and general
 * options beside their own ({@link TrackingOptions}), the streams they write to, and the way into a
 * {@link TrackerRuntime} over the record sinks their options ask for. Filled by picocli and run on the command's
 * thread.
 */
abstract class TrackingCommand implements Callable<Integer>
{
    /** The help section of the Kafka options, the same in both commands. */
    static final String KAFKA_HEADING = "Kafka (records to a topic, beside or instead of the output):";

    @Mixin
    KafkaOptions kafka;

    @Mixin
    CommonOptions common;

    final PrintStream out;
    final PrintStream err;

    TrackingCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    /**
     * Opens the record sinks {@code options} ask for ({@link RecordSinks}) and runs {@code body} on a runtime over
     * them, closed after whatever happened; the exit status ({@link ExitCodes#INPUT_ERROR} when the output cannot be
     * opened, after one line on stderr).
     *
     * @throws UsageException when a sink refuses its options (Kafka's); nothing stays open.
     */
    final int withRuntime(final String command, final TrackingOptions options, final ToIntFunction<TrackerRuntime> body)
    {
        final FlowRecords records = RecordSinks.open(command, options, kafka, common.quiet, out, err);
        if (records == null)
        {
            return ExitCodes.INPUT_ERROR;
        }
        try (TrackerRuntime runtime = new TrackerRuntime(command, records, err))
        {
            return body.applyAsInt(runtime);
        }
    }
}
