package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.output.FlowRecordSink;
import dev.flowtracker.ingest.output.FlowRecords;
import dev.flowtracker.ingest.output.RecordLayout;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.output.kafka.KafkaRecordSink;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The record sinks a tracking command's options ask for, opened once for {@code analyze} and {@code run}: the file
 * or standard output ({@link RecordWriter}) unless Kafka alone was asked for, then Kafka ({@link KafkaOptions}). A
 * new sink is opened here, after the others, and closes them when it cannot open; the commands do not change. Also
 * the end-of-run lines on what a sink could not deliver. Used on the command's thread.
 */
final class RecordSinks
{
    private RecordSinks()
    {
    }

    /**
     * Opens the sinks and frames the file or stream in the options' layout; null, after one line on {@code err},
     * when the output file cannot be opened.
     *
     * @throws UsageException when Kafka refuses its options; the sinks opened before are closed first.
     */
    static FlowRecords open(
        final String command, final TrackingOptions options, final KafkaOptions kafka, final boolean quiet,
        final PrintStream out, final PrintStream err)
    {
        final Path output = options.recordOutput();
        final List<FlowRecordSink> sinks = new ArrayList<>();
        RecordWriter writer = null;
        // With Kafka and no -o, standard output is left alone.
        if (output != null || !kafka.enabled())
        {
            try
            {
                writer = output == null || StandardOutput.DASH.equals(output) ?
                    StandardOutput.recordWriter(out, options.recordBufferBytes()) : options.openRecordFile(output);
            }
            catch (final IOException e)
            {
                err.println("tracker " + command + ": cannot write output file " + output + ": " +
                    Errors.describe(e));
                return null;
            }
            sinks.add(writer);
        }
        try
        {
            if (kafka.enabled())
            {
                sinks.add(kafka.open(options.recordFields(), err));
            }
        }
        catch (final UsageException e)
        {
            sinks.forEach(FlowRecordSink::close);
            throw e;
        }
        final RecordLayout layout = options.recordLayout();
        if (writer != null)
        {
            // Framed once every sink is open: a usage error leaves no header behind.
            writer.frame(layout);
            reportContinued(command, writer, output, quiet, err);
        }
        return new FlowRecords(sinks, options.recordFields(), layout);
    }

    /** Says what a writer that continues a file found there (only {@code run} continues: analyze replaces). */
    private static void reportContinued(
        final String command, final RecordWriter writer, final Path output, final boolean quiet, final PrintStream err)
    {
        if (writer.tornBytesCut() > 0)
        {
            err.printf(Locale.ROOT, "tracker %s: %s ended in an unfinished record (%,d bytes) left by an earlier " +
                "run that was killed; cut it off, continuing after %,d bytes of whole records%n", command, output,
                writer.tornBytesCut(), writer.continuedBytes());
        }
        else if (writer.continuedBytes() > 0 && !quiet)
        {
            err.printf(Locale.ROOT, "tracker %s: continuing %s after %,d bytes an earlier run wrote%n", command,
                output, writer.continuedBytes());
        }
    }

    /**
     * Reports, one line a sink, records a sink lost and a file or stream that failed and recovered; whether every
     * record was delivered. For a daemon's end of run (analyze says it in one line of its own).
     */
    static boolean reportLosses(final String command, final FlowRecords records, final PrintStream err)
    {
        boolean all = true;
        for (final FlowRecordSink sink : records.sinks())
        {
            if (sink instanceof KafkaRecordSink kafka && kafka.lost() > 0)
            {
                err.printf(Locale.ROOT, "tracker %s: error delivering flow records to Kafka: %s; %,d delivered%n",
                    command, kafka.failure(), kafka.written());
                all = false;
            }
        }
        for (final FlowRecordSink sink : records.sinks())
        {
            if (sink instanceof RecordWriter writer)
            {
                all &= reportLosses(command, writer, err);
            }
        }
        return all;
    }

    private static boolean reportLosses(final String command, final RecordWriter writer, final PrintStream err)
    {
        if (writer.lost() > 0)
        {
            err.printf(Locale.ROOT, "tracker %s: error writing flow records: %s; %,d lost (%,d for a full buffer, " +
                    "%,d still unwritable at exit), %,d written%n", command, writer.failure(), writer.lost(),
                writer.lost(RecordWriter.LossReason.BUFFER_FULL), writer.lost(RecordWriter.LossReason.SHUTDOWN),
                writer.written());
            return false;
        }
        if (writer.failure() != null)
        {
            err.printf(Locale.ROOT, "tracker %s: warning: writing flow records failed %,d times (first: %s) and " +
                "recovered; no record lost%n", command, writer.sinkFailures(), writer.failure());
        }
        return true;
    }
}
