package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.output.RecordWriter;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Where records to "standard output" go: the process's own fd 1 when the command was given {@code System.out} by
 * {@link TrackerCli#main} (so that a reader that went away is told from a failing disk), else the stream a test
 * passed. Used on the command's thread.
 */
final class StandardOutput
{
    /** {@code -o -}: standard output. */
    static final Path DASH = Path.of("-");

    /** The process's standard output, once {@link TrackerCli#main} runs; null in tests that call run. */
    private static volatile PrintStream processOut;

    private StandardOutput()
    {
    }

    /** Marks {@code out} as the process's standard output. */
    static void isProcessOutput(final PrintStream out)
    {
        processOut = out;
    }

    static RecordWriter recordWriter(final PrintStream out, final long bufferBytes)
    {
        return out == processOut ? RecordWriter.toStandardOutput(bufferBytes) : RecordWriter.toStream(out, bufferBytes);
    }
}
