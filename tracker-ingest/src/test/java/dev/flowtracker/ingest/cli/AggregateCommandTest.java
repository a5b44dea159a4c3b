package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

/** {@code tracker aggregate}'s command line: a bad flag is one line on stderr and exit status 2. */
class AggregateCommandTest
{
    @Test
    void shouldRefuseBadFlagsInOneLineWithStatus2()
    {
        for (final List<String> args : List.of(
            List.of("aggregate"),
            List.of("aggregate", "--kafka-bootstrap", "no-port"),
            List.of("aggregate", "--kafka-bootstrap", "h:1", "--dedup-window", "5 minutes"),
            List.of("aggregate", "--kafka-bootstrap", "h:1", "--rollup-grace", "0s"),
            List.of("aggregate", "--kafka-bootstrap", "h:1", "--input-topic", "no spaces"),
            List.of("aggregate", "--kafka-bootstrap", "h:1", "--kafka-property", "novalue"),
            List.of("aggregate", "--kafka-bootstrap", "h:1", "--kafka-property", "num.stream.threads=many"),
            List.of("aggregate", "--kafka-bootstrap", "h:1", "--kafka-properties", "/nonexistent/file"),
            List.of("aggregate", "--kafka-bootstrap", "h:1", "--metrics-listen", "nowhere"),
            List.of("aggregate", "--kafka-bootstrap", "h:1", "--threads", "0"),
            List.of("aggregate", "--kafka-bootstrap", "h:1", "--no-such-flag")))
        {
            final ByteArrayOutputStream err = new ByteArrayOutputStream();
            final int exit;
            try (PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
            {
                exit = TrackerCli.run(args.toArray(String[]::new), System.out, e);
            }
            final String message = err.toString(StandardCharsets.UTF_8);
            assertEquals(ExitCodes.USAGE, exit, args + ": " + message);
            assertEquals(1, message.lines().count(), args + ": " + message);
            assertTrue(message.startsWith("tracker aggregate: ") && message.contains("(try 'tracker aggregate " +
                "--help')"), message);
        }
    }
}
